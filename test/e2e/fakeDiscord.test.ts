import {once} from "node:events";
import {afterAll, afterEach, beforeAll, describe, expect, test} from "vitest";
import {
    ActionRowBuilder,
    ApplicationCommandOptionType,
    ButtonBuilder,
    ButtonStyle,
    ChannelType,
    Client,
    DiscordAPIError,
    Events,
    GatewayIntentBits,
    MessageFlags,
    Partials,
    PermissionFlagsBits,
    type ClientEvents,
    type TextChannel
} from "discord.js";
import {startFakeDiscord, type FakeDiscord} from "../fixtures/fakeDiscord.js";

const defaultIntents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages];

function makeClient(fake: FakeDiscord, intents: GatewayIntentBits[] = defaultIntents): Client {
    const client = new Client({
        intents,
        partials: [Partials.Channel],
        rest: {api: fake.apiUrl, globalRequestsPerSecond: Infinity},
        // Re-identifying otherwise sleeps 5 s.
        ws: {buildIdentifyThrottler: () => ({waitForIdentify: async () => {}})}
    });
    // DISCORD_DEBUG=1 prints discord.js's gateway and REST debug lines.
    if (process.env.DISCORD_DEBUG === "1") {
        client.on(Events.Debug, (line) => console.log(line));
        client.rest.on("restDebug", (line) => console.log(line));
    }
    return client;
}

async function loggedIn(fake: FakeDiscord, intents?: GatewayIntentBits[]): Promise<Client<true>> {
    const client = makeClient(fake, intents);
    const ready = once(client, Events.ClientReady);
    await client.login(fake.token);
    await ready;
    return client as Client<true>;
}

/** The next `event` whose arguments pass `filter`. */
function nextEvent<Event extends keyof ClientEvents>(
    client: Client, event: Event, filter: (...args: ClientEvents[Event]) => boolean = () => true, timeoutMs = 5_000
): Promise<ClientEvents[Event]> {
    return new Promise((resolve, reject) => {
        const listener = (...args: ClientEvents[Event]) => {
            if (!filter(...args))
                return;

            clearTimeout(timer);
            client.off(event, listener);
            resolve(args);
        };
        const timer = setTimeout(() => {
            client.off(event, listener);
            reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`));
        }, timeoutMs);
        client.on(event, listener);
    });
}

function textChannel(client: Client, id: string): TextChannel {
    const channel = client.channels.cache.get(id);
    if (channel?.type !== ChannelType.GuildText)
        throw new Error(`channel ${id} is not a cached text channel`);

    return channel;
}

describe("fake Discord with the real discord.js client", () => {
    let fake: FakeDiscord;
    let client: Client<true>;

    beforeAll(async () => {
        fake = await startFakeDiscord();
        client = await loggedIn(fake);
    });
    afterAll(async () => {
        expect(fake.internalErrors).toEqual([]);
        await client?.destroy();
        await fake?.close();
    });

    test("login resolves and clientReady fires with the guild's channels cached", () => {
        expect(client.user.id).toBe(fake.botUser.id);
        expect(client.application.id).toBe(fake.applicationId);
        const guild = client.guilds.cache.get(fake.guildId);
        expect(guild?.available).toBe(true);
        expect(fake.channelIds.length).toBeGreaterThanOrEqual(24);
        for (const id of fake.channelIds)
            expect(client.channels.cache.get(id)?.type).toBe(ChannelType.GuildText);

        expect(guild?.members.cache.get(fake.users.alice.id)?.user.username).toBe("alice");
        expect(guild?.roles.everyone.id).toBe(fake.guildId);
        expect(guild?.members.cache.get(fake.users.mod.id)?.permissions.has(PermissionFlagsBits.ManageMessages)).toBe(true);
        expect(fake.stats.identifies).toBe(1);
        expect(fake.requests[0]).toMatchObject({method: "GET", path: "/gateway/bot", status: 200});
    });

    test("a mention fires messageCreate; reply and edit arrive with their allowed_mentions", async () => {
        const channelId = fake.channelIds[0] ?? "";
        const received = nextEvent(client, Events.MessageCreate, (message) => message.author.id === fake.users.alice.id);
        const said = await fake.userSays({channelId, author: fake.users.alice, content: "hello llama", mentionsBot: true});
        const [message] = await received;

        expect(said.content).toBe(`<@${fake.botUser.id}> hello llama`);
        expect(message.id).toBe(said.id);
        expect(message.content).toBe(said.content);
        expect(message.mentions.has(client.user)).toBe(true);
        expect(message.member?.id).toBe(fake.users.alice.id);

        const reply = await message.reply({content: "thinking…", allowedMentions: {parse: []}});
        await reply.edit({content: "the answer", allowedMentions: {parse: []}});

        const post = fake.requests.find((request) => request.method === "POST" && request.path === `/channels/${channelId}/messages`);
        expect(post?.body).toMatchObject({content: "thinking…", allowed_mentions: {parse: []}, message_reference: {message_id: said.id}});
        const patch = fake.requests.find((request) => request.method === "PATCH" && request.path === `/channels/${channelId}/messages/${reply.id}`);
        expect(patch?.body).toMatchObject({content: "the answer", allowed_mentions: {parse: []}});
        expect(patch?.route).toBe("PATCH /channels/:channel/messages/:message");

        const stored = fake.message(reply.id);
        expect(stored).toMatchObject({content: "the answer", message_reference: {message_id: said.id}, mentions: [], mention_everyone: false});
        expect(stored?.edits).toEqual([expect.objectContaining({content: "the answer", allowed_mentions: {parse: []}})]);
        expect(fake.messagesIn(channelId).map((stored) => stored.id)).toEqual([said.id, reply.id]);
    });

    test("mentions resolve like Discord's: @everyone pings unless allowed_mentions says otherwise", async () => {
        const channel = textChannel(client, fake.channelIds[1] ?? "");
        const loud = await channel.send("@everyone look");
        const quiet = await channel.send({content: "@everyone look", allowedMentions: {parse: []}});
        expect(fake.message(loud.id)?.mention_everyone).toBe(true);
        expect(fake.message(quiet.id)?.mention_everyone).toBe(false);

        // An edit without allowed_mentions is re-parsed with the defaults.
        await quiet.edit(`<@${fake.users.bob.id}> look`);
        expect(fake.message(quiet.id)?.mentions.map((user) => user.id)).toEqual([fake.users.bob.id]);
        expect(fake.message(quiet.id)?.edits[0]?.allowed_mentions).toBeUndefined();
    });

    test("a DM fires messageCreate and the reply goes to the DM channel", async () => {
        const dmId = fake.openDm(fake.users.bob);
        expect(fake.openDm(fake.users.bob)).toBe(dmId);
        const received = nextEvent(client, Events.MessageCreate, (message) => message.channelId === dmId);
        await fake.userSays({channelId: dmId, author: fake.users.bob, content: "psst"});
        const [message] = await received;

        expect(message.channel.type).toBe(ChannelType.DM);
        expect(message.guildId).toBeNull();
        expect(message.content).toBe("psst");
        await message.reply({content: "hi bob", allowedMentions: {parse: []}});
        expect(fake.messagesIn(dmId).map((stored) => [stored.author.id, stored.content])).toEqual([
            [fake.users.bob.id, "psst"],
            [fake.botUser.id, "hi bob"]
        ]);
    });

    test("commands register, and a slash command gets deferReply + editReply + followUp", async () => {
        await client.application.commands.set([{
            name: "ask",
            description: "Ask the model",
            options: [{name: "prompt", description: "What to ask", type: ApplicationCommandOptionType.String, required: true}]
        }], fake.guildId);
        const [registered] = fake.registeredCommands(fake.guildId) as {id: string; name: string}[];
        expect(registered?.name).toBe("ask");
        await expect(client.application.commands.set([{name: "Not Valid", description: "x"}], fake.guildId))
            .rejects.toMatchObject({code: 50035});

        const channelId = fake.channelIds[2] ?? "";
        const received = nextEvent(client, Events.InteractionCreate, (interaction) => interaction.isChatInputCommand());
        const {id, token} = await fake.slashCommand({
            channelId, user: fake.users.alice, name: "ask", options: [{name: "prompt", type: 3, value: "why is the sky blue?"}]
        });
        const [interaction] = await received;
        if (!interaction.isChatInputCommand())
            throw new Error("not a chat input command");

        expect(interaction.id).toBe(id);
        expect(interaction.commandId).toBe(registered?.id);
        expect(interaction.channelId).toBe(channelId);
        expect(interaction.options.getString("prompt")).toBe("why is the sky blue?");
        expect(interaction.memberPermissions?.has(PermissionFlagsBits.SendMessages)).toBe(true);
        expect(interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages)).toBe(false);

        await interaction.deferReply();
        const placeholder = fake.interactionResponses(id).messages[0];
        expect(placeholder?.flags).toBe(MessageFlags.Loading);
        await interaction.editReply({content: "Rayleigh scattering.", allowedMentions: {parse: []}});
        await interaction.followUp({content: "(details)", flags: MessageFlags.Ephemeral});

        const {callbacks, messages} = fake.interactionResponses(id);
        expect(callbacks.map((callback) => callback.type)).toEqual([5]);
        expect(messages.map((message) => [message.content, message.ephemeral, message.flags])).toEqual([
            ["Rayleigh scattering.", false, 0],
            ["(details)", true, MessageFlags.Ephemeral]
        ]);
        expect(messages[0]?.interactionToken).toBe(token);
        expect(fake.requests.some((request) => request.method === "PATCH" &&
            request.path === `/webhooks/${fake.applicationId}/${token}/messages/@original`)).toBe(true);
        expect(fake.requests.some((request) => request.method === "POST" && request.path === `/webhooks/${fake.applicationId}/${token}` &&
            request.query.get("wait") === "true")).toBe(true);
        // A second acknowledgement is refused, as on Discord.
        await expect(interaction.client.rest.post(`/interactions/${id}/${token}/callback`, {body: {type: 5}, auth: false}))
            .rejects.toMatchObject({code: 40060});
    });

    test("a DM slash command carries user, not member; reply withResponse returns the message", async () => {
        const dmId = fake.openDm(fake.users.alice);
        await expect(fake.slashCommand({channelId: fake.channelIds[0] ?? "", user: fake.users.alice, name: "ask", guild: false}))
            .rejects.toThrow(/openDm/);
        const received = nextEvent(client, Events.InteractionCreate, (interaction) => interaction.channelId === dmId);
        const {id} = await fake.slashCommand({channelId: dmId, user: fake.users.alice, name: "ask", guild: false});
        const [interaction] = await received;
        if (!interaction.isChatInputCommand())
            throw new Error("not a chat input command");

        expect(interaction.inGuild()).toBe(false);
        expect(interaction.user.id).toBe(fake.users.alice.id);
        expect(interaction.member).toBeNull();
        const response = await interaction.reply({content: "hi in DM", withResponse: true});
        expect(response.resource?.message?.content).toBe("hi in DM");
        expect(fake.interactionResponses(id)).toMatchObject({
            callbacks: [{type: 4}],
            messages: [{content: "hi in DM", channel_id: dmId, guild_id: null, ephemeral: false}]
        });
    });

    test("an ephemeral deferReply stays ephemeral through editReply", async () => {
        const received = nextEvent(client, Events.InteractionCreate, (interaction) => interaction.isChatInputCommand());
        const {id} = await fake.slashCommand({channelId: fake.channelIds[9] ?? "", user: fake.users.bob, name: "ask"});
        const [interaction] = await received;
        if (!interaction.isChatInputCommand())
            throw new Error("not a chat input command");

        await interaction.deferReply({flags: MessageFlags.Ephemeral});
        await interaction.editReply("only you can see this");
        expect(fake.interactionResponses(id).messages).toMatchObject([
            {content: "only you can see this", ephemeral: true, flags: MessageFlags.Ephemeral}
        ]);
        expect(fake.interactionResponses(id).callbacks).toMatchObject([{type: 5, data: {flags: MessageFlags.Ephemeral}}]);
    });

    test("a button press arrives as a ButtonInteraction and update() edits its message", async () => {
        const channel = textChannel(client, fake.channelIds[3] ?? "");
        const stop = new ButtonBuilder().setCustomId("stop").setLabel("Stop").setStyle(ButtonStyle.Danger);
        const sent = await channel.send({content: "streaming…", components: [new ActionRowBuilder<ButtonBuilder>().addComponents(stop)]});

        const received = nextEvent(client, Events.InteractionCreate, (interaction) => interaction.isButton());
        const {id} = await fake.pressButton({messageId: sent.id, user: fake.users.alice, customId: "stop"});
        const [interaction] = await received;
        if (!interaction.isButton())
            throw new Error("not a button");

        expect(interaction.customId).toBe("stop");
        expect(interaction.message.id).toBe(sent.id);
        expect(interaction.user.id).toBe(fake.users.alice.id);
        await interaction.update({content: "stopped", components: []});

        expect(fake.interactionResponses(id).callbacks.map((callback) => callback.type)).toEqual([7]);
        expect(fake.message(sent.id)).toMatchObject({content: "stopped", components: []});
        await expect(fake.pressButton({messageId: sent.id, user: fake.users.alice, customId: "stop"})).rejects.toThrow(/no enabled button/);
    });

    test("a 429 with Retry-After on a PATCH is retried by discord.js and the edit lands", async () => {
        const sent = await textChannel(client, fake.channelIds[4] ?? "").send("one");
        const rateLimitedBefore = fake.stats.rateLimited;
        fake.failNext({method: "PATCH", path: new RegExp(`/messages/${sent.id}$`), status: 429, retryAfterSeconds: 0.2});

        const started = performance.now();
        await sent.edit("two");
        expect(performance.now() - started).toBeGreaterThanOrEqual(150);
        expect(fake.message(sent.id)?.content).toBe("two");
        const patches = fake.requests.filter((request) => request.method === "PATCH" && request.path.endsWith(sent.id));
        expect(patches.map((request) => [request.status, request.faulted])).toEqual([[429, true], [200, false]]);
        expect(fake.stats.rateLimited).toBe(rateLimitedBefore + 1);
    });

    test("a PATCH of a deleted message rejects with DiscordAPIError 10008", async () => {
        const sent = await textChannel(client, fake.channelIds[5] ?? "").send("soon gone");
        const deleted = nextEvent(client, Events.MessageDelete, (message) => message.id === sent.id);
        fake.deleteMessage(sent.id);
        await deleted;

        const error: unknown = await sent.edit("too late").catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(DiscordAPIError);
        expect(error).toMatchObject({code: 10008, status: 404});
    });

    test("content over 2000 characters answers 400 code 50035", async () => {
        const channel = textChannel(client, fake.channelIds[6] ?? "");
        await expect(channel.send("x".repeat(2001))).rejects.toMatchObject({code: 50035, status: 400});
        expect(fake.messagesIn(channel.id)).toEqual([]);
    });

    test("after closeGateway(4000) the client resumes and gets what was sent meanwhile", async () => {
        const channelId = fake.channelIds[7] ?? "";
        const {identifies, resumes} = fake.stats;
        const resumed = once(client, Events.ShardResume);
        fake.closeGateway(4000);
        const missed = nextEvent(client, Events.MessageCreate, (message) => message.content.endsWith("while you were away"));
        await fake.userSays({channelId, author: fake.users.bob, content: "while you were away", mentionsBot: true});
        await missed;
        const [, replayed] = await resumed;
        expect(replayed).toBeGreaterThanOrEqual(1);
        expect(fake.stats).toMatchObject({identifies, resumes: resumes + 1});

        const next = nextEvent(client, Events.MessageCreate, (message) => message.content.endsWith("still there?"));
        await fake.userSays({channelId, author: fake.users.bob, content: "still there?", mentionsBot: true});
        await next;
    });

    test("attachments arrive as multipart: payload_json is the body, files are listed", async () => {
        const channel = textChannel(client, fake.channelIds[10] ?? "");
        const sent = await channel.send({content: "log attached", files: [{attachment: Buffer.from("hello"), name: "log.txt"}]});
        const post = fake.requests.find((request) => request.method === "POST" && request.path === `/channels/${channel.id}/messages`);
        expect(post).toMatchObject({body: {content: "log attached"}, files: [{name: "log.txt", size: 5}]});
        expect(fake.message(sent.id)?.attachments).toMatchObject([{filename: "log.txt", size: 5}]);
        expect(sent.attachments.first()?.name).toBe("log.txt");
    });

    test("unknown routes answer 404 and are recorded", async () => {
        await expect(client.rest.get("/no/such/route")).rejects.toMatchObject({status: 404});
        expect(fake.requests.at(-1)).toMatchObject({method: "GET", path: "/no/such/route", status: 404, route: null});
    });

    test("every answer carries X-RateLimit headers; a wrong token answers 401", async () => {
        const url = `${fake.apiUrl}/v10/channels/${fake.channelIds[8] ?? ""}`;
        const good = await fetch(url, {headers: {Authorization: `Bot ${fake.token}`}});
        expect(good.status).toBe(200);
        for (const header of ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Reset-After", "X-RateLimit-Bucket"])
            expect(good.headers.get(header)).not.toBeNull();

        const bad = await fetch(url, {headers: {Authorization: "Bot nope"}});
        expect(bad.status).toBe(401);
        expect(await bad.json()).toEqual({message: "401: Unauthorized", code: 0});
    });
});

describe("fake Discord options and faults", () => {
    let fake: FakeDiscord | undefined;
    let client: Client | undefined;

    afterEach(async () => {
        await client?.destroy();
        await fake?.close();
        client = undefined;
        fake = undefined;
    });

    test("login with a wrong token rejects", async () => {
        fake = await startFakeDiscord();
        client = makeClient(fake);
        await expect(client.login("not.the.token")).rejects.toMatchObject({code: "TokenInvalid"});
        expect(fake.requests.at(-1)).toMatchObject({path: "/gateway/bot", status: 401});
    });

    test("channelRateLimit answers 429s when exceeded; discord.js waits them out and every message lands", async () => {
        const limited = fake = await startFakeDiscord({channelRateLimit: {limit: 2, windowMs: 300}});
        client = await loggedIn(limited);
        const channel = textChannel(client, limited.channelIds[0] ?? "");

        await Promise.all([1, 2, 3, 4, 5].map((index) => channel.send(`message ${index}`)));
        expect(limited.messagesIn(channel.id).map((message) => message.content))
            .toEqual(["message 1", "message 2", "message 3", "message 4", "message 5"]);
        expect(limited.stats.rateLimited).toBeGreaterThan(0);

        // Raw requests show what the 429 carries: of three at once, at least one is over the limit of 2.
        const answers = await Promise.all([1, 2, 3].map(() => fetch(`${limited.apiUrl}/v10/channels/${channel.id}/messages`, {
            method: "POST",
            headers: {"Authorization": `Bot ${limited.token}`, "Content-Type": "application/json"},
            body: JSON.stringify({content: "raw"})
        })));
        const refused = answers.find((answer) => answer.status === 429);
        if (refused == null)
            throw new Error(`no 429 among ${answers.map((answer) => answer.status).join(", ")}`);

        expect(refused.status).toBe(429);
        expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
        expect(refused.headers.get("X-RateLimit-Remaining")).toBe("0");
        expect(await refused.json()).toMatchObject({code: 20028, global: false});
    });

    test("a first callback after the interaction deadline answers 404 code 10062", async () => {
        const current = fake = await startFakeDiscord({interactionDeadlineMs: 50});
        client = await loggedIn(current);
        const received = nextEvent(client, Events.InteractionCreate);
        await current.slashCommand({channelId: current.channelIds[0] ?? "", user: current.users.alice, name: "ask"});
        const [interaction] = await received;
        if (!interaction.isChatInputCommand())
            throw new Error("not a chat input command");

        await new Promise((resolve) => setTimeout(resolve, 80));
        await expect(interaction.deferReply()).rejects.toMatchObject({code: 10062, status: 404});
    });

    test("closeGateway(4007) ends the session: the client identifies again", async () => {
        const current = fake = await startFakeDiscord();
        client = await loggedIn(current);
        current.closeGateway(4007);
        await current.waitFor(() => current.stats.identifies === 2, 5_000);

        const received = nextEvent(client, Events.MessageCreate, (message) => message.content.endsWith("back?"));
        await current.userSays({channelId: current.channelIds[0] ?? "", author: current.users.alice, content: "back?", mentionsBot: true});
        await received;
        expect(current.stats.resumes).toBe(0);
    });

    test("a zombie connection (no heartbeat ACKs) is resumed", async () => {
        const zombie = fake = await startFakeDiscord({heartbeatIntervalMs: 100});
        client = await loggedIn(zombie);
        zombie.ackHeartbeats(false);
        await zombie.waitFor(() => zombie.stats.resumes >= 1, 5_000);
        zombie.ackHeartbeats(true);

        const received = nextEvent(client, Events.MessageCreate, (message) => message.content.endsWith("alive?"));
        await zombie.userSays({channelId: zombie.channelIds[0] ?? "", author: zombie.users.alice, content: "alive?", mentionsBot: true});
        await received;
        expect(zombie.stats.identifies).toBe(1);
    });

    test("without the MESSAGE_CONTENT intent only mentions (a reply to the bot only when it pings), DMs and the bot's own messages carry content", async () => {
        const current = fake = await startFakeDiscord();
        client = await loggedIn(current, defaultIntents);
        const channelId = current.channelIds[0] ?? "";

        const plain = nextEvent(client, Events.MessageCreate);
        await current.userSays({channelId, author: current.users.alice, content: "just chatting"});
        expect((await plain)[0].content).toBe("");

        const mention = nextEvent(client, Events.MessageCreate);
        await current.userSays({channelId, author: current.users.alice, content: "hey", mentionsBot: true});
        expect((await mention)[0].content).toBe(`<@${current.botUser.id}> hey`);

        const own = nextEvent(client, Events.MessageCreate);
        const botMessage = await current.userSays({channelId, author: current.botUser, content: "the bot speaking"});
        expect((await own)[0].content).toBe("the bot speaking");
        const unpinged = nextEvent(client, Events.MessageCreate);
        await current.userSays({channelId, author: current.users.alice, content: "a reply", replyTo: botMessage.id});
        expect((await unpinged)[0].content).toBe("");
        const pinged = nextEvent(client, Events.MessageCreate);
        await current.userSays({channelId, author: current.users.alice, content: "a reply", replyTo: botMessage.id, mentions: [current.botUser]});
        expect((await pinged)[0].content).toBe("a reply");
    });
});

describe("fake Discord problems(): what a test did not ask for", () => {
    let fake: FakeDiscord | undefined;

    afterEach(async () => {
        await fake?.close();
        fake = undefined;
    });

    /** A request as the bot sends it, with its token. */
    const get = (discord: FakeDiscord, path: string) => fetch(`${discord.apiUrl}/v10${path}`, {headers: {Authorization: `Bot ${discord.token}`}});

    test("lists a 4xx that was neither injected nor declared, and none that was", async () => {
        const current = fake = await startFakeDiscord();
        current.failNext({method: "GET", path: /^\/channels\/\d+$/, status: 403, code: 50013});
        expect((await get(current, `/channels/${current.channelIds[0]}`)).status).toBe(403);
        expect((await get(current, "/channels/404")).status).toBe(404);
        expect((await get(current, "/users/404")).status).toBe(404);
        current.expectRejections({method: "GET", path: /^\/users\//, status: 404, code: 10013});

        expect(current.problems()).toEqual([
            "GET /channels/404 was answered 404 (code 10003), which the test did not inject or declare with expectRejections"
        ]);
    });

    test("lists a request sent before a 429's retry_after ran out, in its bucket; a global 429 holds every route that uses the bot token", async () => {
        const current = fake = await startFakeDiscord();
        const [first, second] = current.channelIds;
        current.failNext({method: "GET", path: new RegExp(`^/channels/${first}$`), status: 429, retryAfterSeconds: 0.3});
        expect((await get(current, `/channels/${first}`)).status).toBe(429);
        // too early in the same bucket; another channel is another bucket
        expect((await get(current, `/channels/${first}`)).status).toBe(200);
        expect((await get(current, `/channels/${second}`)).status).toBe(200);

        current.failNext({method: "GET", path: /^\/users\/@me$/, status: 429, retryAfterSeconds: 0.3, global: true});
        expect((await get(current, "/users/@me")).status).toBe(429);
        await current.waitFor(() => performance.now() > current.requests.at(-1)!.at + 50);
        expect((await get(current, `/channels/${second}`)).status).toBe(200);
        // a route without the bot token is not held by a global limit
        expect((await fetch(`${current.apiUrl}/v10/gateway`)).status).toBe(200);

        expect(current.problems()).toEqual([
            expect.stringMatching(new RegExp(`^GET /channels/${first} came \\d+ ms after the 429 of GET /channels/${first}, which asked to wait 300 ms$`)),
            expect.stringMatching(new RegExp(`^GET /channels/${second} came \\d+ ms after the global 429 of GET /users/@me, which asked to wait 300 ms$`))
        ]);
    });
});
