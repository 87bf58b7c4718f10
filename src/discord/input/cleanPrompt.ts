/** Looks up display names for the mentions in a message; undefined when unknown. */
export type MentionNames = {
    readonly user: (id: string) => string | undefined;
    readonly role: (id: string) => string | undefined;
    readonly channel: (id: string) => string | undefined;
};

/**
 * The prompt a message carries, as the model should read it: the bot's own mention removed, other
 * user, role and channel mentions turned into plain names, whitespace tidied.
 */
export function cleanPrompt(content: string, botId: string, names: MentionNames): string {
    return content
        .replace(new RegExp(`<@!?${botId}>`, "g"), " ")
        .replace(/<@!?(\d{15,25})>/g, (_, id: string) => `@${names.user(id) ?? "someone"}`)
        .replace(/<@&(\d{15,25})>/g, (_, id: string) => `@${names.role(id) ?? "a role"}`)
        .replace(/<#(\d{15,25})>/g, (_, id: string) => `#${names.channel(id) ?? "a channel"}`)
        .replace(/[ \t]+/g, " ")
        .replace(/ *\n */g, "\n")
        .trim();
}
