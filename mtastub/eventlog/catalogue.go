package eventlog

import "sort"

// Source is the event source of every record an MTA writes.
const Source = "MSExchangeMTA"

// Event IDs of the catalogue. The Q152877 four are always emitted; 2035,
// 4284 and 4287 by the 5.5 builds (CATALOGUE.md C2-C4); the companions
// by the 5.5 builds and by a 4.0 build with extended events on.
const (
	// IDAssocError is an association error on a KCB whose peer entity is known.
	IDAssocError = 1004
	// IDAssocErrorAnon is an association error before the peer entity is known.
	IDAssocErrorAnon = 1008
	// IDStateCheck is a presentation error: a state check failure.
	IDStateCheck = 1198
	// IDConnRefused is a remotely initiated transport connection refused.
	IDConnRefused = 1277

	// IDLostConnections is "Lost connections to locality 0" (KB Q232602):
	// an association's path was lost and is not recovered.
	IDLostConnections = 2035
	// IDConnError is an error during connection/disconnection (KB Q175354,
	// Q232602): a failed outbound open while mail is queued, 5.5 builds.
	IDConnError = 4284
	// IDInternalError is the "internal MTA error" that follows 4284.
	IDInternalError = 4287

	// IDNoControlBlocks is a resource limit: no free control blocks (companion).
	IDNoControlBlocks = 9156
	// IDConnectRefused is a sockets error 10061 on connect() (companion).
	IDConnectRefused = 9215
	// IDConnReset is a sockets error 10054 on WSARecvEx() (companion).
	IDConnReset = 9221
	// IDAbnormalEnd is an association that ended abnormally (companion).
	IDAbnormalEnd = 1294
	// IDStart is the MTA start banner (companion).
	IDStart = 9298
	// IDStop is the MTA stop banner (companion).
	IDStop = 9299
)

// Event types, as the Windows event log names them.
const (
	// TypeWarning is the type of every error event of the catalogue.
	TypeWarning = "Warning"
	// TypeInformation is the type of the start and stop banners.
	TypeInformation = "Information"
)

// Event categories of MSExchangeMTA used by the catalogue.
const (
	// CategoryX400 is the "X.400 Service" category (1004, 1008, 1198, 1294,
	// 2035, 4284, 4287).
	CategoryX400 = "X.400 Service"
	// CategoryInterop is the "Interoperability" category (1277).
	CategoryInterop = "Interoperability"
	// CategoryResource is the "Resource" category (9156).
	CategoryResource = "Resource"
	// CategoryOS is the "Operating System" category (9215, 9221, 9298, 9299).
	CategoryOS = "Operating System"
)

// Build numbers shown by the start and stop banners (CATALOGUE.md C1).
const (
	// BuildSP0 is the build of Exchange 4.0 before Service Pack 2 (build 4.0, mode sp0).
	BuildSP0 = "838.10"
	// BuildSP2 is the build of Exchange 4.0 Service Pack 2 (build 4.0-sp2, mode sp2).
	BuildSP2 = "993.6"
	// Build55SP2 is the build of Exchange 5.5 Service Pack 2 (build 5.5-sp2).
	Build55SP2 = "2448.4"
	// Build55SP3 is the build of Exchange 5.5 Service Pack 3 (build 5.5-sp3).
	Build55SP3 = "2650.24"
	// Build55SP4 is the build of Exchange 5.5 Service Pack 4 (build 5.5-sp4).
	Build55SP4 = "2653.23"
)

// BuildFor returns the build number shown in the banners of a build, by
// its name ("4.0", "4.0-sp2", "5.5-sp2", "5.5-sp3", "5.5-sp4") or its old
// mode name ("sp0", "sp2"), or "" for any other.
func BuildFor(build string) string {
	switch build {
	case "sp0", "4.0":
		return BuildSP0
	case "sp2", "4.0-sp2":
		return BuildSP2
	case "5.5-sp2":
		return Build55SP2
	case "5.5-sp3":
		return Build55SP3
	case "5.5-sp4":
		return Build55SP4
	}
	return ""
}

type meta struct {
	category  string
	typ       string
	severity  int
	companion bool
}

var catalogue = map[int]meta{
	IDAssocError:      {CategoryX400, TypeWarning, 14, false},
	IDAssocErrorAnon:  {CategoryX400, TypeWarning, 14, false},
	IDStateCheck:      {CategoryX400, TypeWarning, 14, false},
	IDConnRefused:     {CategoryInterop, TypeWarning, 14, false},
	IDLostConnections: {CategoryX400, TypeWarning, 14, false},
	IDConnError:       {CategoryX400, TypeWarning, 14, false},
	IDInternalError:   {CategoryX400, TypeWarning, 14, false},
	IDNoControlBlocks: {CategoryResource, TypeWarning, 10, true},
	IDConnectRefused:  {CategoryOS, TypeWarning, 12, true},
	IDConnReset:       {CategoryOS, TypeWarning, 12, true},
	IDAbnormalEnd:     {CategoryX400, TypeWarning, 10, true},
	IDStart:           {CategoryOS, TypeInformation, 10, true},
	IDStop:            {CategoryOS, TypeInformation, 10, true},
}

// Meta returns the catalogue entry of an event ID: its category, its type and
// its severity (the number the MTA prints in parentheses at the end of the
// text). ok is false for an ID the catalogue does not know.
func Meta(id int) (category, typ string, severity int, ok bool) {
	m, ok := catalogue[id]
	return m.category, m.typ, m.severity, ok
}

// Known reports whether id is in the catalogue.
func Known(id int) bool {
	_, ok := catalogue[id]
	return ok
}

// Companion reports whether id is a companion event, emitted only when
// extended events are on.
func Companion(id int) bool {
	return catalogue[id].companion
}

// IDs returns every catalogued event ID in ascending order.
func IDs() []int {
	ids := make([]int, 0, len(catalogue))
	for id := range catalogue {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// CoreIDs returns the four event IDs of KB Q152877 in ascending order:
// 1004, 1008, 1198 and 1277.
func CoreIDs() []int {
	return []int{IDAssocError, IDAssocErrorAnon, IDStateCheck, IDConnRefused}
}

// DN returns the distinguished name of an MTA,
// "/O={org}/OU={site}/CN=CONFIGURATION/CN=SERVERS/CN={name}/CN=MICROSOFT MTA".
// An empty org or site defaults to "ORG" or "SITE".
func DN(org, site, name string) string {
	if org == "" {
		org = "ORG"
	}
	if site == "" {
		site = "SITE"
	}
	return "/O=" + org + "/OU=" + site + "/CN=CONFIGURATION/CN=SERVERS/CN=" + name + "/CN=MICROSOFT MTA"
}
