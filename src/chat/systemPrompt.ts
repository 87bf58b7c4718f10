/** The names a system prompt's placeholders are filled in with, where a question is asked. */
export type PlaceNames = {
    /** `{server}`: the server's name (in a DM, says so). */
    readonly server: string;
    /** `{channel}`: `#channel-name` (in a DM, says so). */
    readonly channel: string;
    /** `{bot}`: the bot's display name. */
    readonly bot: string;
};

/**
 * A system prompt template with its placeholders filled in, at the time of a question: `{date}`
 * ("Sunday, November 29, 2026"), `{time}` ("18:42 UTC", the bot machine's time zone), `{server}`,
 * `{channel}` and `{bot}`. Anything else in braces is left as written.
 */
export function fillPlaceholders(template: string, names: PlaceNames, now: Date): string {
    const values: Record<string, () => string> = {
        date: () => now.toLocaleDateString("en-US", {weekday: "long", year: "numeric", month: "long", day: "numeric"}),
        time: () => now.toLocaleTimeString("en-GB", {hour: "2-digit", minute: "2-digit", timeZoneName: "short"}),
        server: () => names.server,
        channel: () => names.channel,
        bot: () => names.bot
    };
    return template.replace(/\{(date|time|server|channel|bot)\}/g, (placeholder, name: string) => values[name]?.() ?? placeholder);
}
