import {ConfigError, loadConfig, secretsOf} from "./config.js";
import type {Config, ParseConfigOptions} from "./config.js";
import {createLogger} from "./logger.js";
import type {Logger} from "./logger.js";

export type StartUpOptions = ParseConfigOptions & {
    /** false: at LOG_LEVEL=info, only warnings and errors are logged (the terminal chat shows its own numbers). default true */
    readonly infoLogged?: boolean;
};

/**
 * What every entry point does first: the validated settings (or one message naming every bad one and
 * exit code 1), and the logger LOG_LEVEL and LOG_FORMAT ask for, which never writes a secret.
 */
export function startUp({infoLogged = true, ...options}: StartUpOptions): {config: Config, logger: Logger} {
    const config = loadConfigOrExit(options);
    const level = !infoLogged && config.logLevel === "info" ? "warn" : config.logLevel;
    return {config, logger: createLogger({level, format: config.logFormat, secrets: secretsOf(config)})};
}

function loadConfigOrExit(options: ParseConfigOptions): Config {
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
