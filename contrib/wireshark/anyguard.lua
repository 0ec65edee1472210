-- anyguard: the anycast identifier, IPv6 Destination Option 0x1E
-- (docs/protocol.md §2). Wireshark has no dissector table for IPv6 options,
-- so this is a postdissector: for every option Wireshark's IPv6 dissector
-- shows as "Experimental", it reads that field's bytes by their range in the
-- packet (never by a fixed offset) and, when the option type is 0x1E, decodes
-- the identifier under its own tree.
--
--   tshark -X lua_script:contrib/wireshark/anyguard.lua -r capture.pcap \
--          -T fields -e anyguard.anycast -e anyguard.timestamp
--   anyguard wireshark install        (copies this file to the plugin folder)
--
-- Option data (docs/protocol.md §2): alg (1), key id (1), reserved (2, zero),
-- S (16), timestamp (8, ms since the Unix epoch, big-endian), authenticator
-- (0, 16 or 64 bytes for alg 0 none, 1 hmac-sha256, 2 ed25519).

local anyguard = Proto("anyguard", "anyguard anycast identifier")

local ALGORITHMS = {[0] = "none", [1] = "hmac-sha256", [2] = "ed25519"}
local TAG_LENGTH = {[0] = 0, [1] = 16, [2] = 64}
local FIXED = 28 -- option data before the authenticator
local OPTION_TYPE = 0x1e

local f = {
	alg = ProtoField.uint8("anyguard.alg", "Algorithm", base.DEC, ALGORITHMS),
	key_id = ProtoField.uint8("anyguard.key_id", "Key ID", base.DEC),
	reserved = ProtoField.uint16("anyguard.reserved", "Reserved", base.HEX),
	anycast = ProtoField.ipv6("anyguard.anycast", "Anycast address (S)"),
	timestamp = ProtoField.absolute_time("anyguard.timestamp", "Stamped at", base.UTC),
	timestamp_ms = ProtoField.uint64("anyguard.timestamp_ms", "Stamped at (ms since the epoch)", base.DEC),
	authenticator = ProtoField.bytes("anyguard.authenticator", "Authenticator"),
}
anyguard.fields = {f.alg, f.key_id, f.reserved, f.anycast, f.timestamp, f.timestamp_ms, f.authenticator}

local e = {
	length = ProtoExpert.new("anyguard.malformed.length", "Identifier of the wrong length for its algorithm", expert.group.MALFORMED, expert.severity.ERROR),
	short = ProtoExpert.new("anyguard.malformed.short", "Identifier shorter than its fixed part (28 bytes)", expert.group.MALFORMED, expert.severity.ERROR),
	reserved = ProtoExpert.new("anyguard.malformed.reserved", "Reserved bytes are not zero", expert.group.MALFORMED, expert.severity.ERROR),
	alg = ProtoExpert.new("anyguard.malformed.alg", "Unknown algorithm", expert.group.MALFORMED, expert.severity.ERROR),
	duplicate = ProtoExpert.new("anyguard.duplicate", "More than one identifier in the packet", expert.group.PROTOCOL, expert.severity.WARN),
}
anyguard.experts = {e.length, e.short, e.reserved, e.alg, e.duplicate}

local experimental = Field.new("ipv6.opt.experimental")

-- The option's type byte sits two bytes before its data (type, length, data:
-- RFC 8200 §4.2), in the same data source as the field.
local function option_type(field)
	local source = field.source
	local at = field.offset - 2
	if source == nil or at < 0 then return nil end
	return source(at, 1):uint()
end

local function decode(range, tree, first)
	local len = range:len()
	local t = tree:add(anyguard, range, "anyguard identifier")
	if not first then t:add_proto_expert_info(e.duplicate) end
	if len < FIXED then
		t:add_proto_expert_info(e.short, string.format("Identifier shorter than its fixed part: %d of 28 bytes", len))
		return
	end
	local alg = range(0, 1):uint()
	t:add(f.alg, range(0, 1))
	t:add(f.key_id, range(1, 1))
	local reserved = t:add(f.reserved, range(2, 2))
	if range(2, 2):uint() ~= 0 then reserved:add_proto_expert_info(e.reserved) end
	t:add(f.anycast, range(4, 16))
	local ms = range(20, 8):uint64()
	local secs = (ms / 1000):tonumber()
	local nsecs = (ms % 1000):tonumber() * 1000000
	t:add(f.timestamp, range(20, 8), NSTime.new(secs, nsecs))
	t:add(f.timestamp_ms, range(20, 8))
	local tag = TAG_LENGTH[alg]
	if tag == nil then
		t:add_proto_expert_info(e.alg, string.format("Unknown algorithm %d", alg))
		if len > FIXED then t:add(f.authenticator, range(FIXED)) end
		return
	end
	if len ~= FIXED + tag then
		t:add_proto_expert_info(e.length, string.format("%s identifier of %d bytes; it must be %d", ALGORITHMS[alg], len, FIXED + tag))
	end
	if len > FIXED then t:add(f.authenticator, range(FIXED)) end
	t:append_text(string.format(": %s, key %d, S %s", ALGORITHMS[alg], range(1, 1):uint(), tostring(range(4, 16):ipv6())))
end

function anyguard.dissector(tvb, pinfo, tree)
	local fields = {experimental()}
	local first = true
	for _, field in ipairs(fields) do
		local range = field.range
		if range ~= nil and option_type(field) == OPTION_TYPE then
			decode(range, tree, first)
			first = false
		end
	end
	if not first then pinfo.cols.protocol:append("/anyguard") end
end

-- allfields: have Wireshark build every field, so ipv6.opt.experimental is there to read even when tshark builds no tree.
register_postdissector(anyguard, true)
