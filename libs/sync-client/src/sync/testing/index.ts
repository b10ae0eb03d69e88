// What other libraries' tests use of the client's test helpers (the e2e model test).
export { playHistory, seededRandom, treeOf, type ModelDevice, type ModelWorld } from './model-history';
