/** Types for build-freshness.js (plain JavaScript so it runs before anything is compiled). */
export declare const STAMP: string;
export declare function buildInputs(root: string): string[];
export declare function buildFreshness(root: string, inputs?: string[]): { current: boolean; reason: string };
