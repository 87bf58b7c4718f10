import {describe, expect, it} from "vitest";
import {checkAccess} from "../../src/discord/input/accessRules.js";
import type {AccessRules} from "../../src/discord/input/accessRules.js";

const everywhere: AccessRules = {allowedChannelIds: [], allowedRoleIds: [], blockedUserIds: [], allowDms: true};
const alice = {userId: "1", roleIds: ["10"], channelId: "100"};

describe("checkAccess", () => {
    it("given empty lists, then everyone is answered everywhere, DMs included", () => {
        expect(checkAccess(everywhere, alice)).toEqual({allowed: true});
        expect(checkAccess(everywhere, {userId: "1", roleIds: undefined, channelId: undefined})).toEqual({allowed: true});
    });

    it("given allowed channels, then only those (and threads of them, which ask with their parent) are answered", () => {
        const rules = {...everywhere, allowedChannelIds: ["100"]};
        expect(checkAccess(rules, alice)).toEqual({allowed: true});
        expect(checkAccess(rules, {...alice, channelId: "200"})).toEqual({allowed: false, reason: expect.stringMatching(/not answer in this channel/)});
    });

    it("given allowed roles, then a member needs one of them; DMs are not held to roles", () => {
        const rules = {...everywhere, allowedRoleIds: ["10", "11"]};
        expect(checkAccess(rules, alice)).toEqual({allowed: true});
        expect(checkAccess(rules, {...alice, roleIds: ["12"]})).toMatchObject({allowed: false});
        expect(checkAccess(rules, {userId: "1", roleIds: undefined, channelId: undefined})).toEqual({allowed: true});
    });

    it("given a blocked user, then they are refused everywhere, DMs included", () => {
        const rules = {...everywhere, blockedUserIds: ["1"]};
        expect(checkAccess(rules, alice)).toMatchObject({allowed: false, reason: expect.stringMatching(/blocked/)});
        expect(checkAccess(rules, {userId: "1", roleIds: undefined, channelId: undefined})).toMatchObject({allowed: false});
    });

    it("given ALLOW_DMS=false, then DMs are refused and server channels still answered", () => {
        const rules = {...everywhere, allowDms: false};
        expect(checkAccess(rules, {userId: "1", roleIds: undefined, channelId: undefined})).toMatchObject({allowed: false, reason: expect.stringMatching(/direct messages/)});
        expect(checkAccess(rules, alice)).toEqual({allowed: true});
    });
});
