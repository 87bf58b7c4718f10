import type {ReplyPayload} from "../layout/ReplyPayload.js";

/** One message of a reply, already on screen. */
export interface ReplyPage {
    edit(payload: ReplyPayload): Promise<void>;
}

/** Where a reply's pages go: a reply to a message and channel messages, or an interaction's reply and follow-ups. */
export interface ReplyTransport {
    /** The first page, already on screen (the placeholder reply, or the deferred interaction reply). */
    readonly first: ReplyPage;
    /** Sends a further page (a follow-up or a channel message) and returns it. */
    sendNext(payload: ReplyPayload): Promise<ReplyPage>;
}
