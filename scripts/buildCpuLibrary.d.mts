/** Types of scripts/buildCpuLibrary.mjs (plain JavaScript: it runs at install, before the TypeScript build). */
export declare const nativeLibraryName: string;
export declare function cpuFeatures(cpuinfo: string): string[];
export declare function tiedVariants(features: readonly string[]): string[];
