import type {Attachment} from "discord.js";
import type {AttachedFile} from "../../chat/formatPrompt.js";
import {UserFacingError} from "../../errors.js";
import {errorMessage} from "../../utils/errorMessage.js";
import {formatBytes} from "../../utils/formatBytes.js";

/** How long one file may take to download, redirects included. */
const downloadTimeoutMs = 15_000;
/** Redirects followed (each to one of Discord's hosts) before a download is given up. */
const maxRedirects = 3;
/** The hosts Discord serves attachments from. */
const discordFileHosts = ["cdn.discordapp.com", "media.discordapp.net"];

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

export type AttachmentRules = {
    /** The largest file read, in bytes: checked against the declared size, then enforced while reading. */
    readonly maxBytes: number;
    readonly maxFiles: number;
    /** The only host names files are downloaded from (see {@link attachmentHosts}), redirects included. */
    readonly hosts: readonly string[];
};

/**
 * Where attachments may be downloaded from: Discord's file hosts, and, on a Discord-compatible server,
 * the host of its API (any port: such servers often serve files from another one).
 */
export function attachmentHosts(discordApiUrl: string): string[] {
    return [...new Set([...discordFileHosts, new URL(discordApiUrl).hostname])];
}

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
 * gets a note. Files are fetched only from the attachments' `url`, only from Discord's hosts (a
 * redirect elsewhere is not followed), and no more than `maxBytes` of a file is ever read, whatever
 * size was declared.
 * @throws {AttachmentRefusedError} when a text file is too big, there are too many, or one cannot be downloaded
 */
export async function readAttachments(
    attachments: readonly DeliveredAttachment[],
    {maxBytes, maxFiles, hosts}: AttachmentRules
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
        const text = decodeText(await download(file, maxBytes, hosts));
        if (text == null)
            notes.push(`${file.name} is not a text file, so I skipped it.`);
        else
            files.push({name: file.name, text});
    }
    return {files, notes};
}

async function download(file: DeliveredAttachment, maxBytes: number, hosts: readonly string[]): Promise<Uint8Array> {
    const {name} = file;
    const response = await fetchFromDiscord(file, hosts);
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
        throw downloadFailed(name, errorMessage(error));
    }
    return Buffer.concat(chunks);
}

/** The file's response, following redirects only while they stay on Discord's hosts. */
async function fetchFromDiscord({name, url}: DeliveredAttachment, hosts: readonly string[]): Promise<Response> {
    const signal = AbortSignal.timeout(downloadTimeoutMs);
    let address = URL.parse(url);
    for (let redirects = 0; ; redirects++) {
        if (address == null || !["http:", "https:"].includes(address.protocol))
            throw downloadFailed(name, "not a web address");
        if (!hosts.includes(address.hostname))
            throw new AttachmentRefusedError(`I download files only from Discord, and ${name} is stored elsewhere, so I did not read it.`);

        let response: Response;
        try {
            response = await fetch(address, {signal, redirect: "manual"});
        } catch (error) {
            throw downloadFailed(name, errorMessage(error));
        }
        const location = response.headers.get("location");
        if (response.status < 300 || response.status >= 400 || location == null)
            return response;
        await response.body?.cancel();
        if (redirects === maxRedirects)
            throw downloadFailed(name, "too many redirects");
        address = URL.parse(location, address.href);
    }
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
