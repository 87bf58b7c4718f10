import type {CallToolResult, ContentBlock} from "@modelcontextprotocol/sdk/types.js";
import {formatBytes} from "../utils/formatBytes.js";

/**
 * A tool's result as the model reads it: its text parts joined, each image, sound or binary file a short
 * note (the model reads text only), and the structured content as JSON when that is all there is. Pure.
 * Cutting it to `TOOL_RESULT_MAX_TOKENS` is the engine's work.
 */
export function toolResultText(result: Pick<CallToolResult, "content" | "structuredContent">): string {
    const parts = result.content.map(contentText);
    if (parts.length === 0 && result.structuredContent != null)
        parts.push(JSON.stringify(result.structuredContent));
    return parts.length === 0 ? "(the tool returned nothing)" : parts.join("\n");
}

function contentText(block: ContentBlock): string {
    switch (block.type) {
        case "text":
            return block.text;
        case "image":
        case "audio":
            return binaryNote(block.mimeType, block.data);
        case "resource":
            return "text" in block.resource
                ? block.resource.text
                : binaryNote(block.resource.mimeType ?? "binary file", block.resource.blob, block.resource.uri);
        case "resource_link":
            return `[a link to ${block.uri}${block.mimeType == null ? "" : ` (${block.mimeType})`}, not opened]`;
    }
}

/** "[image/png, 1.2 KB, not shown to the model]" */
function binaryNote(mimeType: string, base64: string, uri?: string): string {
    const bytes = Math.floor(base64.replace(/=+$/, "").length * 3 / 4);
    return `[${mimeType}${uri == null ? "" : ` ${uri}`}, ${formatBytes(bytes)}, not shown to the model]`;
}
