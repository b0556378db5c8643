export declare const REQUIRED_NODE: string;
export declare const FETCHED_NODE_MAJOR: number;
export declare const FETCHED_NODE_DIR: string;
export declare function nodeRunsDvss(version: string): boolean;
export declare function manualInstallHint(current?: string): string;
export declare function nodeBinDirForDvss(current?: string): string | undefined;
export declare function withNodeOnPath(binDir: string, env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
