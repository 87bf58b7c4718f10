/**
 * The parts of a configured URL that may be credentials: its userinfo (`http://user:password@host`)
 * and its query (`?key=...`). Such a URL is configuration, never shown whole.
 */

/** A URL as it may be shown in logs, errors and replies: without its userinfo and its query. */
export function shownUrl(url: string): string {
    const parsed = URL.parse(url);
    if (parsed == null)
        return redactUserinfo(url).replace(/[?#].*$/s, "");
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`;
}

/** The password and the query of a URL, raw and decoded, for the logger to redact wherever they appear. */
export function secretsOfUrl(url: string): string[] {
    const parsed = URL.parse(url);
    if (parsed == null)
        return [];
    const secrets = [parsed.password, decoded(parsed.password), parsed.search, parsed.search.slice(1)];
    return [...new Set(secrets)].filter((secret) => secret !== "");
}

/** A URL's userinfo, decoded, as `user:password` (what Basic authorization sends); undefined when it has none. */
export function credentialsOf(url: string): string | undefined {
    const parsed = URL.parse(url);
    if (parsed == null || (parsed.username === "" && parsed.password === ""))
        return undefined;
    return `${decoded(parsed.username)}:${decoded(parsed.password)}`;
}

/** Every URL's userinfo in a text replaced: `http://user:password@host` becomes `http://[redacted]@host`. */
export function redactUserinfo(text: string): string {
    return text.replace(/\b([a-z][a-z\d+.-]*:\/\/)[^\s/?#@]+@/gi, "$1[redacted]@");
}

function decoded(text: string): string {
    try {
        return decodeURIComponent(text);
    } catch {
        return text;
    }
}
