/**
 * The user turn the model reads. In a shared channel several people talk to one conversation, so
 * each turn starts with the speaker's name.
 */
export function formatPrompt(speaker: string | undefined, text: string): string {
    const name = speaker?.replace(/[\r\n:]+/g, " ").trim();
    return name == null || name === "" ? text : `${name}: ${text}`;
}

/** A text file attached to a question. */
export type AttachedFile = {
    readonly name: string;
    readonly text: string;
};

/** The question followed by its files, each marked with its name, so the model can tell them apart. */
export function withAttachedFiles(text: string, files: readonly AttachedFile[]): string {
    return [text, ...files.map(({name, text: content}) => `--- file: ${name} ---\n${content.trimEnd()}\n--- end of ${name} ---`)]
        .filter((part) => part !== "")
        .join("\n\n");
}
