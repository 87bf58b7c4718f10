/** Whether a file system error says the file is not there (ENOENT). */
export function isMissingFileError(error: unknown): boolean {
    return error instanceof Error && "code" in error && error.code === "ENOENT";
}
