-- minip1.lua: a Wireshark dissector for MiniP1, the association protocol of
-- mtastorm's stub MTAs (DESIGN.md section 2).
--
--   wireshark -X lua_script:tools/wireshark/minip1.lua captures/A-B.received.pcapng
--   tshark -X lua_script:tools/wireshark/minip1.lua -r captures/A-B.received.pcapng
--
-- A MiniP1 frame is an RFC 1006 TPKT carrying an ISO 8073 class-0 unit: a
-- transport unit (CR, CC, DR, ER) or a DT whose user data is one association
-- unit (SI u8 | LI | parameters, each PI u8 | length | value; lengths in the
-- ISO 8327 encoding). Wireshark's TPKT and COTP dissectors read the transport
-- layer; this script
--
--   * finds MiniP1 streams on any TCP port (a heuristic on tcp, and on the
--     ports from 1024 up that other dissectors registered, a check that
--     hands anything else back to them) and passes their frames to TPKT, so
--     that captures of mtastorm runs need no "Decode As";
--   * decodes the user data of every COTP DT as a MiniP1 association unit
--     (a heuristic on cotp, tried before the ISO 8327 session dissector,
--     which would take BIND for a CONNECT SPDU and report it malformed);
--   * adds a MiniP1 tree to every unit, transport units included, named in
--     the Info column, with every field (TSAPs, MTA name DN, association id,
--     window, message id, sequence, segment flags, sizes, ACK result, abort
--     reason) and expert info wherever the stub's decoder would reject the
--     frame (and answer ER or ABORT) or would skip a parameter.
--
-- Filter fields start with "minip1.": minip1.unit == "BIND", minip1.seq,
-- minip1.msg_id, minip1.result, minip1.reason, ...

local minip1 = Proto("minip1", "MiniP1 (mtastorm)")
local minip1_tcp = Proto("minip1_tcp", "MiniP1 over TCP (mtastorm)")

local TRANSPORT = { [0xE0] = "CR", [0xD0] = "CC", [0x80] = "DR", [0x70] = "ER" }
local SI = {
	[0x0D] = "BIND", [0x0E] = "BIND-ACCEPT", [0x0C] = "BIND-REFUSE", [0x14] = "TRANSFER",
	[0x15] = "ACK", [0x09] = "RELEASE", [0x0A] = "RELEASE-CONFIRM", [0x19] = "ABORT",
}
local PI = {
	[0x01] = "MTA name", [0x02] = "password", [0x03] = "association id", [0x05] = "window",
	[0x06] = "provider", [0x07] = "reason", [0x08] = "source", [0x0A] = "sequence",
	[0x0B] = "flags", [0x0C] = "result", [0x10] = "message id", [0x11] = "priority",
	[0x12] = "payload", [0x13] = "total length",
}
local TP_PARAM = { [0xC0] = "TPDU size", [0xC1] = "calling TSAP", [0xC2] = "called TSAP", [0xE0] = "text" }
-- The PIs each association unit may carry, and those it must carry
-- (minip1/decode.go: assocAllowed, assocRequired).
local ALLOWED = {
	[0x0D] = { [0x01] = true, [0x02] = true, [0x03] = true, [0x05] = true },
	[0x0E] = { [0x01] = true, [0x03] = true, [0x05] = true },
	[0x0C] = { [0x06] = true, [0x07] = true },
	[0x14] = { [0x0A] = true, [0x0B] = true, [0x10] = true, [0x11] = true, [0x12] = true, [0x13] = true },
	[0x15] = { [0x0A] = true, [0x0C] = true, [0x10] = true },
	[0x09] = { [0x07] = true },
	[0x0A] = {},
	[0x19] = { [0x07] = true, [0x08] = true },
}
local REQUIRED = {
	[0x0D] = { 0x01 }, [0x0C] = { 0x07 }, [0x14] = { 0x0A, 0x10, 0x12 },
	[0x15] = { 0x0A, 0x0C, 0x10 }, [0x09] = { 0x07 }, [0x19] = { 0x07 },
}
local WIDTH = { [0x03] = 4, [0x0A] = 4, [0x13] = 4, [0x05] = 1, [0x06] = 1, [0x07] = 1,
	[0x08] = 1, [0x0B] = 1, [0x0C] = 1, [0x11] = 1 }

local RESULT = { [0] = "accepted", [1] = "duplicate", [2] = "transient reject", [3] = "permanent reject" }
local ABORT_REASON = { [0] = "local problem", [3] = "temporary problem", [4] = "protocol error" }
local DR_REASON = { [0x81] = "congestion (no free KCB)", [0x83] = "duplicate calling TSAP",
	[0x03] = "unknown called TSAP" }

local f = minip1.fields
f.unit = ProtoField.string("minip1.unit", "Unit")
f.code = ProtoField.uint8("minip1.code", "TP0 code", base.HEX, TRANSPORT)
f.si = ProtoField.uint8("minip1.si", "SI", base.HEX, SI)
f.li = ProtoField.uint16("minip1.li", "LI", base.DEC)
f.frame_len = ProtoField.uint16("minip1.frame_len", "Frame length", base.DEC)
f.dst_ref = ProtoField.uint16("minip1.dst_ref", "Destination reference", base.HEX)
f.src_ref = ProtoField.uint16("minip1.src_ref", "Source reference", base.HEX)
f.class = ProtoField.uint8("minip1.class", "Class", base.DEC)
f.tpdu_size = ProtoField.uint8("minip1.tpdu_size", "TPDU size (log2)", base.DEC)
f.calling_tsap = ProtoField.string("minip1.calling_tsap", "Calling TSAP")
f.called_tsap = ProtoField.string("minip1.called_tsap", "Called TSAP")
f.dr_reason = ProtoField.uint8("minip1.dr_reason", "DR reason", base.HEX, DR_REASON)
f.cause = ProtoField.uint8("minip1.cause", "ER cause", base.HEX)
f.text = ProtoField.string("minip1.text", "Text")
f.param = ProtoField.uint8("minip1.pi", "Parameter", base.HEX, PI)
f.param_len = ProtoField.uint16("minip1.param_len", "Length", base.DEC)
f.mta_name = ProtoField.string("minip1.mta_name", "MTA name (DN)")
f.password = ProtoField.string("minip1.password", "Password")
f.assoc_id = ProtoField.uint32("minip1.assoc_id", "Association id", base.DEC)
f.window = ProtoField.uint8("minip1.window", "Window", base.DEC)
f.provider = ProtoField.uint8("minip1.provider", "Provider", base.DEC)
f.reason = ProtoField.uint8("minip1.reason", "Reason", base.DEC)
f.abort_reason = ProtoField.uint8("minip1.abort_reason", "Abort reason", base.DEC, ABORT_REASON)
f.source = ProtoField.uint8("minip1.source", "Source", base.DEC)
f.seq = ProtoField.uint32("minip1.seq", "Sequence", base.DEC)
f.flags = ProtoField.uint8("minip1.flags", "Segment flags", base.HEX)
f.last = ProtoField.bool("minip1.flags.last", "Last segment", 8, nil, 0x01)
f.result = ProtoField.uint8("minip1.result", "ACK result", base.DEC, RESULT)
f.msg_id = ProtoField.string("minip1.msg_id", "Message id")
f.priority = ProtoField.uint8("minip1.priority", "Priority", base.DEC)
f.payload = ProtoField.bytes("minip1.payload", "Payload")
f.payload_len = ProtoField.uint32("minip1.payload_len", "Payload size", base.DEC)
f.total = ProtoField.uint32("minip1.total", "Message size (total)", base.DEC)
f.value = ProtoField.bytes("minip1.value", "Value")

local e_malformed = ProtoExpert.new("minip1.malformed", "Malformed MiniP1 unit: the stub rejects it",
	expert.group.MALFORMED, expert.severity.ERROR)
local e_skipped = ProtoExpert.new("minip1.skipped", "Parameter the stub skips",
	expert.group.PROTOCOL, expert.severity.NOTE)
local e_duplicate = ProtoExpert.new("minip1.duplicate", "Duplicated parameter: the stub keeps the last",
	expert.group.PROTOCOL, expert.severity.WARN)
local e_value = ProtoExpert.new("minip1.value_unknown", "Value outside those MiniP1 defines",
	expert.group.PROTOCOL, expert.severity.WARN)
local e_failure = ProtoExpert.new("minip1.failure", "Association failure",
	expert.group.RESPONSE_CODE, expert.severity.NOTE)
minip1.experts = { e_malformed, e_skipped, e_duplicate, e_value, e_failure }

-- ISO 8327 length at offset off of tvb: the length, the offset after it,
-- or nil when it does not fit.
local function read_len(tvb, off)
	if off >= tvb:len() then return nil end
	local b = tvb(off, 1):uint()
	if b ~= 0xFF then return b, off + 1 end
	if tvb:len() - off < 3 then return nil end
	return tvb(off + 1, 2):uint(), off + 3
end

-- show puts a unit's text in the Info column: after the units already
-- shown for this packet (a packet may carry several frames), else in place
-- of what TCP, TPKT or COTP wrote.
local function show(pinfo, before, text)
	-- TPKT fences the column between the frames of a segment; the text
	-- kept in before is the whole of it.
	pinfo.cols.info:clear_fence()
	if before:sub(1, 7) == "MiniP1 " then
		pinfo.cols.info:set(before .. ", " .. text)
	else
		pinfo.cols.info:set("MiniP1 " .. text)
	end
	pinfo.cols.protocol:set("MiniP1")
end

local function printable(s)
	if s:match("^[%g ]*$") then return s end
	return "<" .. #s .. " bytes>"
end

-- dissect_assoc decodes one association unit (the user data of a DT) as
-- minip1/decode.go's decodeAssoc does. It returns the unit's text for the
-- Info column.
local function dissect_assoc(tvb, pinfo, tree)
	local si = tvb(0, 1):uint()
	local name = SI[si]
	local t = tree:add(minip1, tvb(), "MiniP1 " .. (name or string.format("unknown SI 0x%02X", si)))
	t:add(f.unit, name or "UNKNOWN")
	local si_item = t:add(f.si, tvb(0, 1))
	if name == nil then
		si_item:add_proto_expert_info(e_malformed, string.format("unknown SI 0x%02X: the stub answers ABORT", si))
		return string.format("unknown SI 0x%02X", si)
	end
	if tvb:len() < 2 then
		t:add_proto_expert_info(e_malformed, "association unit truncated: no LI")
		return name .. " (truncated)"
	end
	local li, p = read_len(tvb, 1)
	if li == nil then
		t:add_proto_expert_info(e_malformed, "LI truncated")
		return name .. " (truncated)"
	end
	local li_item = t:add(f.li, tvb(1, p - 1), li)
	if li ~= tvb:len() - p then
		li_item:add_proto_expert_info(e_malformed,
			string.format("LI %d inconsistent with the unit (%d bytes follow)", li, tvb:len() - p))
	end
	local seen, values, summary = {}, {}, {}
	while p < tvb:len() do
		local pi = tvb(p, 1):uint()
		local n, v = read_len(tvb, p + 1)
		if n == nil then
			t:add(f.param, tvb(p, 1)):add_proto_expert_info(e_malformed,
				string.format("parameter 0x%02X: length missing or truncated", pi))
			break
		end
		local left = tvb:len() - v
		if n > left then
			t:add(f.param, tvb(p, tvb:len() - p), pi):add_proto_expert_info(e_malformed,
				string.format("parameter 0x%02X length %d exceeds the unit (%d bytes left)", pi, n, left))
			break
		end
		local range = tvb(p, v - p + n)
		local val = n > 0 and tvb(v, n) or tvb(v, 0)
		local pt = t:add(f.param, range, pi, string.format("Parameter 0x%02X %s (%d bytes)", pi, PI[pi] or "unknown", n))
		pt:add(f.param_len, tvb(p + 1, v - p - 1), n)
		if not ALLOWED[si][pi] then
			pt:add(f.value, val)
			pt:add_proto_expert_info(e_skipped, string.format("parameter 0x%02X does not belong to %s: the stub skips it", pi, name))
		else
			if seen[pi] then
				pt:add_proto_expert_info(e_duplicate, string.format("parameter 0x%02X repeated: the stub keeps the last", pi))
			end
			seen[pi] = true
			local w = WIDTH[pi]
			if w ~= nil and n ~= w then
				pt:add(f.value, val)
				pt:add_proto_expert_info(e_malformed, string.format("parameter 0x%02X is %d bytes, want %d", pi, n, w))
			elseif pi == 0x01 then
				values.mta_name = val:string(); pt:add(f.mta_name, val)
			elseif pi == 0x02 then
				values.password = val:string(); pt:add(f.password, val)
			elseif pi == 0x03 then
				values.assoc = val:uint(); pt:add(f.assoc_id, val)
			elseif pi == 0x05 then
				values.window = val:uint(); pt:add(f.window, val)
			elseif pi == 0x06 then
				values.provider = val:uint(); pt:add(f.provider, val)
			elseif pi == 0x07 then
				values.reason = val:uint()
				local it
				if si == 0x19 then it = pt:add(f.abort_reason, val) else it = pt:add(f.reason, val) end
				if si == 0x19 and ABORT_REASON[values.reason] == nil then
					it:add_proto_expert_info(e_value, string.format("abort reason %d is not 0, 3 or 4", values.reason))
				end
			elseif pi == 0x08 then
				values.source = val:uint(); pt:add(f.source, val)
			elseif pi == 0x0A then
				values.seq = val:uint(); pt:add(f.seq, val)
			elseif pi == 0x0B then
				values.flags = val:uint()
				local ft = pt:add(f.flags, val)
				ft:add(f.last, val)
			elseif pi == 0x0C then
				values.result = val:uint()
				local it = pt:add(f.result, val)
				if RESULT[values.result] == nil then
					it:add_proto_expert_info(e_value, string.format("ACK result %d is not 0..3", values.result))
				end
			elseif pi == 0x10 then
				values.msg_id = val:string(); pt:add(f.msg_id, val)
			elseif pi == 0x11 then
				values.priority = val:uint(); pt:add(f.priority, val)
			elseif pi == 0x12 then
				values.payload = n
				if n > 0 then pt:add(f.payload, val) end
				pt:add(f.payload_len, tvb(p + 1, v - p - 1), n)
			elseif pi == 0x13 then
				values.total = val:uint(); pt:add(f.total, val)
			end
		end
		p = v + n
	end
	for _, pi in ipairs(REQUIRED[si] or {}) do
		if not seen[pi] then
			t:add_proto_expert_info(e_malformed,
				string.format("required parameter 0x%02X (%s) missing: the stub answers ABORT", pi, PI[pi]))
		end
	end
	-- The Info column: the unit and what identifies it.
	local s = name
	if si == 0x0D or si == 0x0E then
		if values.mta_name then table.insert(summary, "mta=" .. printable(values.mta_name)) end
		if values.assoc then table.insert(summary, "assoc=" .. values.assoc) end
		if values.window then table.insert(summary, "window=" .. values.window) end
	elseif si == 0x14 then
		if values.msg_id then table.insert(summary, "id=" .. printable(values.msg_id)) end
		if values.seq then table.insert(summary, "seq=" .. values.seq) end
		local last = values.flags and values.flags % 2 == 1
		table.insert(summary, last and "last" or "more")
		if values.payload then table.insert(summary, "size=" .. values.payload) end
		if values.total and values.total > 0 then table.insert(summary, "total=" .. values.total) end
	elseif si == 0x15 then
		if values.msg_id then table.insert(summary, "id=" .. printable(values.msg_id)) end
		if values.seq then table.insert(summary, "seq=" .. values.seq) end
		if values.result then table.insert(summary, "result=" .. (RESULT[values.result] or values.result)) end
		if values.result and values.result >= 2 then
			t:add_proto_expert_info(e_failure, "ACK " .. (RESULT[values.result] or values.result))
		end
	elseif si == 0x19 then
		if values.reason then table.insert(summary, "reason=" .. (ABORT_REASON[values.reason] or values.reason)) end
		if values.source then table.insert(summary, "source=" .. values.source) end
		t:add_proto_expert_info(e_failure, "ABORT" .. (values.reason and (" reason " .. values.reason) or ""))
	elseif si == 0x0C or si == 0x09 then
		if values.provider then table.insert(summary, "provider=" .. values.provider) end
		if values.reason then table.insert(summary, "reason=" .. values.reason) end
		if si == 0x0C then t:add_proto_expert_info(e_failure, "BIND refused") end
	end
	if #summary > 0 then
		s = s .. " " .. table.concat(summary, " ")
		t:append_text(": " .. table.concat(summary, " "))
	end
	return s
end

-- dissect_transport adds the MiniP1 tree of a transport unit (frame: the
-- whole TPKT frame), checked as minip1/decode.go's decodeTransport does.
-- COTP shows the same bytes; this tree names the unit and flags what the
-- stub would reject. It returns the unit's text for the Info column.
local function dissect_transport(frame, pinfo, tree)
	local code = frame(5, 1):uint()
	local name = TRANSPORT[code]
	local t = tree:add(minip1, frame(4), "MiniP1 " .. (name or string.format("unknown TP0 code 0x%02X", code)))
	t:add(f.unit, name or "UNKNOWN")
	t:add(f.frame_len, frame(2, 2))
	local code_item = t:add(f.code, frame(5, 1))
	if name == nil then
		code_item:add_proto_expert_info(e_malformed, string.format("unknown TP0 code 0x%02X: the stub answers ER", code))
		return string.format("unknown TP0 code 0x%02X", code)
	end
	local li = frame(4, 1):uint()
	local li_item = t:add(f.li, frame(4, 1), li)
	local fixed = (code == 0x70) and 4 or 6
	if li == 255 then
		li_item:add_proto_expert_info(e_malformed, "LI 255 is reserved")
		return name
	end
	if li + 5 ~= frame:len() then
		li_item:add_proto_expert_info(e_malformed, string.format("LI %d inconsistent with the frame length %d", li, frame:len()))
		return name
	end
	if li < fixed then
		li_item:add_proto_expert_info(e_malformed, string.format("LI %d shorter than the %d-byte fixed part", li, fixed))
		return name
	end
	local summary = {}
	local dst = t:add(f.dst_ref, frame(6, 2))
	if code == 0xE0 and frame(6, 2):uint() ~= 0 then
		dst:add_proto_expert_info(e_malformed, "CR dst-ref must be 0")
	end
	if code == 0xE0 or code == 0xD0 then
		t:add(f.src_ref, frame(8, 2))
		local cl = t:add(f.class, frame(10, 1), math.floor(frame(10, 1):uint() / 16))
		if math.floor(frame(10, 1):uint() / 16) ~= 0 then
			cl:add_proto_expert_info(e_malformed, "only class 0 is supported")
		end
	elseif code == 0x80 then
		t:add(f.src_ref, frame(8, 2))
		local r = frame(10, 1):uint()
		t:add(f.dr_reason, frame(10, 1))
		table.insert(summary, "reason=" .. (DR_REASON[r] or string.format("0x%02X", r)))
		t:add_proto_expert_info(e_failure, "DR: " .. (DR_REASON[r] or string.format("reason 0x%02X", r)))
	else
		t:add(f.cause, frame(8, 1))
		table.insert(summary, string.format("cause=0x%02X", frame(8, 1):uint()))
		t:add_proto_expert_info(e_failure, "ER: transport error")
	end
	local p = 5 + fixed
	while p < frame:len() do
		if frame:len() - p < 2 then
			t:add_proto_expert_info(e_malformed, "truncated parameter header")
			break
		end
		local pc, n = frame(p, 1):uint(), frame(p + 1, 1):uint()
		if n > frame:len() - p - 2 then
			t:add(f.value, frame(p)):add_proto_expert_info(e_malformed,
				string.format("parameter 0x%02X length %d exceeds the frame", pc, n))
			break
		end
		local val = frame(p + 2, n)
		if pc == 0xC0 and (code == 0xE0 or code == 0xD0) then
			local it = t:add(f.tpdu_size, val)
			if n ~= 1 then
				it:add_proto_expert_info(e_malformed, "TPDU size parameter must be 1 byte")
			else
				local v = val:uint()
				if v < 7 or v > 16 then
					it:add_proto_expert_info(e_malformed, string.format("TPDU size log2 %d outside 7..16", v))
				end
				table.insert(summary, "size=" .. math.min(math.floor(2 ^ v), 65535))
			end
		elseif pc == 0xC1 and (code == 0xE0 or code == 0xD0) then
			t:add(f.calling_tsap, val)
			table.insert(summary, "calling=" .. printable(val:string()))
		elseif pc == 0xC2 and (code == 0xE0 or code == 0xD0) then
			t:add(f.called_tsap, val)
			table.insert(summary, "called=" .. printable(val:string()))
		elseif pc == 0xE0 and code == 0x80 then
			t:add(f.text, val)
		else
			t:add(f.value, frame(p, n + 2)):add_proto_expert_info(e_skipped,
				string.format("parameter 0x%02X (%s) does not belong to %s: the stub skips it", pc, TP_PARAM[pc] or "unknown", name))
		end
		p = p + 2 + n
	end
	if #summary == 0 then return name end
	t:append_text(": " .. table.concat(summary, " "))
	return name .. " " .. table.concat(summary, " ")
end

-- On streams this script found (in_stream), every DT's user data is
-- MiniP1; elsewhere (a capture decoded with "Decode As" TPKT) only user
-- data that decodes cleanly as MiniP1 is taken.
local in_stream = false
local unit_text -- what heur_cotp decoded, for one_frame's Info column

local function strict_assoc(tvb)
	if tvb:len() < 2 then return false end
	local si = tvb(0, 1):uint()
	if SI[si] == nil then return false end
	local li, p = read_len(tvb, 1)
	if li == nil or li ~= tvb:len() - p then return false end
	local seen = {}
	while p < tvb:len() do
		local pi = tvb(p, 1):uint()
		local n, v = read_len(tvb, p + 1)
		if n == nil or n > tvb:len() - v then return false end
		if not ALLOWED[si][pi] then return false end
		if WIDTH[pi] ~= nil and WIDTH[pi] ~= n then return false end
		seen[pi] = true
		p = v + n
	end
	for _, pi in ipairs(REQUIRED[si] or {}) do
		if not seen[pi] then return false end
	end
	return true
end

local function heur_cotp(tvb, pinfo, tree)
	if tvb:len() < 1 then return false end
	if in_stream then
		unit_text = dissect_assoc(tvb, pinfo, tree)
		return true
	end
	if not strict_assoc(tvb) then return false end
	show(pinfo, tostring(pinfo.cols.info), dissect_assoc(tvb, pinfo, tree))
	return true
end
minip1:register_heuristic("cotp", heur_cotp)

local tpkt = Dissector.get("tpkt")

-- looks_like reports whether tvb starts like a MiniP1 frame: true, false,
-- or nil when too few bytes are there to tell.
local function looks_like(tvb)
	local n = tvb:len()
	if n < 1 then return nil end
	if tvb(0, 1):uint() ~= 3 then return false end
	if n < 2 then return nil end
	if tvb(1, 1):uint() ~= 0 then return false end
	if n < 4 then return nil end
	if tvb(2, 2):uint() < 7 then return false end
	if n < 6 then return nil end
	local li, code = tvb(4, 1):uint(), tvb(5, 1):uint()
	if code == 0xF0 then return li == 2 end
	return TRANSPORT[code] ~= nil
end

local function frame_len(tvb, pinfo, offset)
	return tvb(offset + 2, 2):uint()
end

-- one_frame dissects one complete MiniP1 frame: TPKT and COTP by
-- Wireshark's own dissectors, the unit by this script.
local function one_frame(tvb, pinfo, tree)
	local code = tvb(5, 1):uint()
	if code == 0xF0 and tvb(6, 1):uint() ~= 0x80 then
		tree:add(minip1, tvb(4, 3), "MiniP1 DT header"):add_proto_expert_info(e_malformed,
			string.format("DT header 02 F0 %02X, want 02 F0 80", tvb(6, 1):uint()))
	end
	local before = tostring(pinfo.cols.info)
	in_stream, unit_text = true, nil
	local ok, err = pcall(function() tpkt:call(tvb, pinfo, tree) end)
	in_stream = false
	if not ok then error(err) end
	local text = unit_text
	if code ~= 0xF0 then
		text = dissect_transport(tvb, pinfo, tree)
	elseif tvb:len() < 8 then
		tree:add(minip1, tvb(4), "MiniP1"):add_proto_expert_info(e_malformed, "no association unit after the DT header")
		text = "DT without a unit"
	end
	if text == nil then
		-- COTP kept the user data (a DT it is reassembling, or one it
		-- could not hand over): say so rather than show nothing.
		text = "DT not decoded"
		tree:add(minip1, tvb(4), "MiniP1"):add_proto_expert_info(e_malformed, "COTP did not hand this DT's user data over")
	end
	show(pinfo, before, text)
	return tvb:len()
end

local displaced = {} -- port -> the dissector this script stepped in front of

local function dissect_stream(tvb, pinfo, tree)
	dissect_tcp_pdus(tvb, tree, 4, frame_len, one_frame, true)
	return tvb:len()
end

function minip1_tcp.dissector(tvb, pinfo, tree)
	local like = looks_like(tvb)
	if like == false then
		local d = displaced[pinfo.match_uint]
		if d ~= nil then return d:call(tvb, pinfo, tree) end
		return 0
	end
	pinfo.conversation = minip1_tcp
	if like == nil then
		pinfo.desegment_offset = 0
		pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
		return tvb:len()
	end
	return dissect_stream(tvb, pinfo, tree)
end

-- Ports at or above 1024 that another dissector registered (mtastorm's
-- proxies listen from 10000 up, its MTAs and clients on ephemeral ports:
-- a port of a capture may well be one of them): this script's check runs
-- first there and hands anything that is not MiniP1 back to that dissector.
local tcp_port = DissectorTable.get("tcp.port")
for port = 1024, 65535 do
	local d = tcp_port:get_dissector(port)
	if d ~= nil then
		displaced[port] = d
		tcp_port:add(port, minip1_tcp)
	end
end

local function heur_tcp(tvb, pinfo, tree)
	if looks_like(tvb) ~= true then return false end
	pinfo.conversation = minip1_tcp
	dissect_stream(tvb, pinfo, tree)
	return true
end
minip1_tcp:register_heuristic("tcp", heur_tcp)
