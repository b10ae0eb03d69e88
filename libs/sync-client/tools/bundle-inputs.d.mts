export declare const INPUTS_FILE: string;
export declare function fileStamp(path: string): { size: number; mtimeMs: number } | undefined;
export declare function changedInputs(root: string, distDir: string): string[];
