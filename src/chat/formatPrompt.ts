/**
 * The user turn the model reads. In a shared channel several people talk to one conversation, so
 * each turn starts with the speaker's name.
 */
export function formatPrompt(speaker: string | undefined, text: string): string {
    const name = speaker?.replace(/[\r\n:]+/g, " ").trim();
    return name == null || name === "" ? text : `${name}: ${text}`;
}
