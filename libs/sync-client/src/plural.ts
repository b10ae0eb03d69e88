/**
 * `count` and what it counts, in the singular for exactly one: `plural(1, 'file')` is "1 file",
 * `plural(3, 'copy', 'copies')` "3 copies", `plural(1, 'file was', 'files were')` "1 file was".
 */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
