/**
 * An interaction token lives 15 minutes; past this age the reply goes on in channel messages.
 * A little early, so that a write started just before the deadline still lands.
 */
export const interactionTokenLifetimeMs = 14.5 * 60 * 1000;
