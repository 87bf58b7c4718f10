import fs from "node:fs";

/** The bot's version, from package.json (one folder above both src/ and dist/). */
export const botVersion: string = readVersion();

function readVersion(): string {
    const text = fs.readFileSync(new URL("../package.json", import.meta.url), "utf8");
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed != null && "version" in parsed && typeof parsed.version === "string" ? parsed.version : "unknown";
}
