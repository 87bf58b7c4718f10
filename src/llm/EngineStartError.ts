import {UserFacingError} from "../errors.js";

/** Start-up failed in a way the user can fix (no model file, no download, no binary, no inference server). */
export class EngineStartError extends UserFacingError {
    constructor(userMessage: string, cause?: unknown) {
        super("engine-start", userMessage);
        this.name = "EngineStartError";
        this.cause = cause;
    }
}
