/** A conversation id becomes a file name, so only plain names are allowed (Discord ids, "terminal"). */
const conversationIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

export class InvalidConversationIdError extends Error {
    constructor(id: string) {
        super(`Invalid conversation id ${JSON.stringify(id.slice(0, 80))}: only letters, digits, "_" and "-" (1 to 64) are allowed`);
        this.name = "InvalidConversationIdError";
    }
}

/** @throws {InvalidConversationIdError} for an id that could not safely name a file */
export function assertValidConversationId(id: string): void {
    if (!conversationIdPattern.test(id))
        throw new InvalidConversationIdError(id);
}
