import path from "node:path";
import type {Logger} from "../logger.js";
import {JsonFileStore} from "./JsonFileStore.js";

/** The channels' personas (`/persona`), one file per channel under `DATA_DIR/personas`, whichever engine answers. */
export function openPersonaStore(dataDir: string, logger: Logger): JsonFileStore<string> {
    return new JsonFileStore({directory: path.join(dataDir, "personas"), isValid: isPersona, logger, contents: "persona"});
}

/** Tells a saved persona from a damaged file. */
function isPersona(value: unknown): value is string {
    return typeof value === "string";
}
