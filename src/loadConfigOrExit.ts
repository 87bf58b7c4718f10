import {ConfigError, loadConfig} from "./config.js";
import type {Config, ParseConfigOptions} from "./config.js";

/** For the entry points: the validated settings, or one message naming every bad one and exit code 1. */
export function loadConfigOrExit(options: ParseConfigOptions): Config {
    try {
        return loadConfig(options);
    } catch (error) {
        if (error instanceof ConfigError) {
            process.stderr.write(`${error.message}\nSee .env.example for every setting and its meaning.\n`);
            process.exit(1);
        }
        throw error;
    }
}
