import type {Attachment} from "discord.js";
import {UserFacingError} from "../errors.js";
import type {AttachedFile} from "../chat/formatPrompt.js";
import {formatBytes} from "./formatBytes.js";

/** How long one file may take to download. */
const downloadTimeoutMs = 15_000;

/** File name endings read as text: plain text, data, logs, and source code. */
const textExtensions = new Set([
    "txt", "text", "md", "markdown", "rst", "adoc", "tex", "csv", "tsv", "json", "jsonl", "ndjson", "log", "yaml", "yml", "toml",
    "ini", "cfg", "conf", "env", "properties", "xml", "html", "htm", "css", "scss", "sass", "less", "js", "mjs", "cjs", "ts", "mts",
    "cts", "tsx", "jsx", "vue", "svelte", "py", "pyi", "rb", "go", "rs", "java", "kt", "kts", "scala", "groovy", "gradle", "c", "h",
    "cc", "cpp", "cxx", "hpp", "hh", "cs", "fs", "php", "swift", "m", "mm", "dart", "lua", "pl", "pm", "r", "jl", "hs", "ex", "exs",
    "erl", "clj", "elm", "zig", "nim", "sh", "bash", "zsh", "fish", "ps1", "bat", "cmd", "sql", "graphql", "proto", "diff", "patch",
    "dockerfile", "makefile", "cmake", "gitignore", "srt", "vtt"
]);
const imageExtensions = new Set(["png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff", "avif", "heic", "ico", "svg"]);

/** What the bot needs of an attachment Discord delivered with a message. */
export type DeliveredAttachment = {
    readonly name: string;
    /** The `url` field of the attachment: the only place a file is fetched from. */
    readonly url: string;
    /** Bytes, as Discord declared them. */
    readonly size: number;
    readonly contentType: string | null;
};

export type AttachmentLimits = {
    /** The largest file read, in bytes: checked against the declared size, then enforced while reading. */
    readonly maxBytes: number;
    readonly maxFiles: number;
};

export type AttachmentsRead = {
    readonly files: AttachedFile[];
    /** Plain notes for the asker about files that were not read (images, binary files). */
    readonly notes: string[];
};

/** A text file over the size limit, or too many of them: the question is refused with the numbers. */
export class AttachmentRefusedError extends UserFacingError {
    constructor(userMessage: string) {
        super("attachment-refused", userMessage);
        this.name = "AttachmentRefusedError";
    }
}

export function deliveredAttachments(attachments: Iterable<Attachment>): DeliveredAttachment[] {
    return [...attachments].map((attachment) => ({
        name: attachment.name,
        url: attachment.url,
        size: attachment.size,
        contentType: attachment.contentType
    }));
}

export type AttachmentKind = "text" | "image" | "other";

/** What a file is, from its content type and, when Discord gave none or a generic one, its name. */
export function kindOf({name, contentType}: Pick<DeliveredAttachment, "name" | "contentType">): AttachmentKind {
    const type = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
    const base = name.toLowerCase();
    const extension = base.includes(".") ? base.slice(base.lastIndexOf(".") + 1) : base;
    if (type.startsWith("image/") || imageExtensions.has(extension))
        return "image";
    if (type.startsWith("text/") || /^application\/(json|xml|x-yaml|yaml|javascript|x-sh|sql|toml)$/.test(type) || textExtensions.has(extension))
        return "text";
    return "other";
}

/**
 * Reads a message's text files for its prompt. Images and other binary files are not read; each
 * gets a note. Files are fetched only from the attachments' `url`, and no more than `maxBytes` of
 * a file is ever read, whatever size was declared.
 * @throws {AttachmentRefusedError} when a text file is too big, or there are too many
 */
export async function readAttachments(
    attachments: readonly DeliveredAttachment[],
    {maxBytes, maxFiles}: AttachmentLimits
): Promise<AttachmentsRead> {
    const notes: string[] = [];
    const textFiles: DeliveredAttachment[] = [];
    for (const attachment of attachments) {
        const kind = kindOf(attachment);
        if (kind === "text")
            textFiles.push(attachment);
        else if (kind === "image")
            notes.push(`I cannot see images, so I did not look at ${attachment.name}: this model reads text only (node-llama-cpp 3.21.1 has no vision support).`);
        else
            notes.push(`I can only read text files, so I skipped ${attachment.name}.`);
    }

    if (textFiles.length > maxFiles)
        throw new AttachmentRefusedError(`You attached ${textFiles.length} text files; I read at most ${maxFiles} from one message. Please send fewer.`);
    for (const file of textFiles)
        if (file.size > maxBytes)
            throw tooLarge(file.name, `is ${formatBytes(file.size)}`, maxBytes);

    const files: AttachedFile[] = [];
    for (const file of textFiles) {
        const text = decodeText(await download(file, maxBytes));
        if (text == null)
            notes.push(`${file.name} is not a text file, so I skipped it.`);
        else
            files.push({name: file.name, text});
    }
    return {files, notes};
}

async function download({name, url}: DeliveredAttachment, maxBytes: number): Promise<Uint8Array> {
    if (!/^https?:\/\//i.test(url))
        throw downloadFailed(name, "not a web address");

    let response: Response;
    try {
        response = await fetch(url, {signal: AbortSignal.timeout(downloadTimeoutMs)});
    } catch (error) {
        throw downloadFailed(name, error instanceof Error ? error.message : String(error));
    }
    if (!response.ok || response.body == null) {
        await response.body?.cancel();
        throw downloadFailed(name, `HTTP ${response.status}`);
    }

    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let received = 0;
    try {
        for (;;) {
            const {done, value} = await reader.read();
            if (done)
                break;
            received += value.byteLength;
            if (received > maxBytes) {
                await reader.cancel();
                throw tooLarge(name, `is more than ${formatBytes(maxBytes)}`, maxBytes);
            }
            chunks.push(value);
        }
    } catch (error) {
        if (error instanceof AttachmentRefusedError)
            throw error;
        throw downloadFailed(name, error instanceof Error ? error.message : String(error));
    }
    return Buffer.concat(chunks);
}

/** UTF-8 text, or undefined for bytes that are not (a binary file with a text-like name). */
function decodeText(bytes: Uint8Array): string | undefined {
    if (bytes.includes(0))
        return undefined;
    try {
        return new TextDecoder("utf-8", {fatal: true}).decode(bytes).replace(/^\uFEFF/, "");
    } catch {
        return undefined;
    }
}

function downloadFailed(name: string, reason: string): AttachmentRefusedError {
    return new AttachmentRefusedError(`I could not download ${name} (${reason}). Please try again.`);
}

function tooLarge(name: string, size: string, maxBytes: number): AttachmentRefusedError {
    return new AttachmentRefusedError(`${name} ${size}; I read text files up to ${formatBytes(maxBytes)}. ` +
        "Please attach a shorter file, or paste the part that matters.");
}
