package eventlog

import "fmt"

// Default sockets error codes of the companion socket events.
const (
	// WSAECONNREFUSED is the sockets error of event 9215 (connection refused).
	WSAECONNREFUSED = 10061
	// WSAECONNRESET is the sockets error of event 9221 (connection reset by peer).
	WSAECONNRESET = 10054
)

// Render returns the text of r, chosen by r.ID, on one line.
//
// The four Q152877 events use the DESIGN.md section-4 templates, which are
// the KB wording with whitespace normalised:
//
//	1004 An error occurred while processing an association {assoc} with entity {entity}. The association will be terminated and restarted if necessary. [{state} {svc} {flavor} {reason} PLATFORM KERNEL 10] (14)
//	1008 An error occurred while processing an association with entity . The association will be terminated and restarted if necessary. [{state} {svc} PLATFORM KERNEL ]
//	1277 An interoperability error occurred. Session error: the remotely initiated transport connection was refused. Control block index {kcb}. Type1[{own DN} PLATFORM KERNEL] (14)
//	1198 An error occurred while processing an association to entity {entity}. Presentation error: state check failure. Current state {state}, service type {svc}, service flavor {flavor} Control block index {kcb}. The association will be terminated and restarted if necessary. [PLATFORM KERNEL 27 108] (14)
//
// 2035, 4284 and 4287 have no variable fields; their texts are KB Q232602's
// (4284 and 4287 also Q175354's):
//
//	2035 Lost connections to locality 0 (BASE POP4 DOWN(6)
//	4284 An error has occurred during connection/disconnection. Error code=8511 [POP4 POP4 DOWN 4 179] (14)
//	4287 An internal MTA error occurred. Contact Microsoft Product Support Services. Error code=8640 [POP4 POP4 DOWN4 18] (14)
//
// The companions follow the KB articles that quote them: 9156 (Q166602,
// Q229643) with
// r.Limit as the configured count, 9215 (Q170056) and 9221 (Q169143) with
// r.Socket as the sockets error (10061 and 10054 when zero), 1294 (Q157630)
// with r.Entity, and the 9298/9299 banners with r.Build. An ID outside the
// catalogue renders as Event Viewer's "description cannot be found" text.
func Render(r Record) string {
	switch r.ID {
	case IDAssocError:
		return fmt.Sprintf("An error occurred while processing an association %d with entity %s. "+
			"The association will be terminated and restarted if necessary. "+
			"[%d %d %d %d PLATFORM KERNEL 10] (14)",
			r.Assoc, r.Entity, r.State, r.Svc, r.Flavor, r.Reason)
	case IDAssocErrorAnon:
		return fmt.Sprintf("An error occurred while processing an association with entity . "+
			"The association will be terminated and restarted if necessary. "+
			"[%d %d PLATFORM KERNEL ]",
			r.State, r.Svc)
	case IDConnRefused:
		return fmt.Sprintf("An interoperability error occurred. "+
			"Session error: the remotely initiated transport connection was refused. "+
			"Control block index %d. Type1[%s PLATFORM KERNEL] (14)",
			r.KCB, r.OwnDN)
	case IDStateCheck:
		return fmt.Sprintf("An error occurred while processing an association to entity %s. "+
			"Presentation error: state check failure. "+
			"Current state %d, service type %d, service flavor %d Control block index %d. "+
			"The association will be terminated and restarted if necessary. "+
			"[PLATFORM KERNEL 27 108] (14)",
			r.Entity, r.State, r.Svc, r.Flavor, r.KCB)
	case IDLostConnections:
		// Sic: the KB's parenthesis is not closed.
		return "Lost connections to locality 0 (BASE POP4 DOWN(6)"
	case IDConnError:
		return "An error has occurred during connection/disconnection. Error code=8511 [POP4 POP4 DOWN 4 179] (14)"
	case IDInternalError:
		return "An internal MTA error occurred. Contact Microsoft Product Support Services. " +
			"Error code=8640 [POP4 POP4 DOWN4 18] (14)"
	case IDNoControlBlocks:
		return fmt.Sprintf("A resource limit has been reached while attempting to open an association. "+
			"There are no free control blocks available for network type 1. "+
			"The configured count is %d. [BASE IL MAIN BASE 1 282] (10)",
			r.Limit)
	case IDConnectRefused:
		return fmt.Sprintf("A sockets error %d on a connect() call was detected. "+
			"The MTA will attempt to recover the sockets connection. "+
			"Control block index: %d. [BASE IL TCP/IP DRVR 8 274] (12)",
			socketOr(r.Socket, WSAECONNREFUSED), r.KCB)
	case IDConnReset:
		return fmt.Sprintf("A sockets error %d on a WSARecvEx() call was detected. "+
			"The MTA will attempt to recover the sockets connection. "+
			"Control block index: %d. [BASE IL TCP/IP DRVR 10 262] (12)",
			socketOr(r.Socket, WSAECONNRESET), r.KCB)
	case IDAbnormalEnd:
		return fmt.Sprintf("An association with entity %s ended abnormally. "+
			"[%d %d %d %d PLATFORM KERNEL 20 130] (10)",
			r.Entity, r.State, r.Svc, r.Flavor, r.Reason)
	case IDStart:
		return "The message transfer agent (MTA) has started." + buildClause(r.Build) + " (10)"
	case IDStop:
		return "The message transfer agent (MTA) has stopped." + buildClause(r.Build) + " (10)"
	}
	return fmt.Sprintf("The description for Event ID ( %d ) in Source ( %s ) cannot be found.", r.ID, Source)
}

func socketOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func buildClause(build string) string {
	if build == "" {
		return ""
	}
	return " " + ProductOf(build) + " (Build " + build + ")."
}

// ProductOf returns the product a banner names for a build number: 5.5
// for the 5.5 service packs' numbers, else 4.0 (the banners of the two
// 4.0 builds, and any number the catalogue does not know).
func ProductOf(build string) string {
	switch build {
	case Build55SP2, Build55SP3, Build55SP4:
		return "Microsoft Exchange Server 5.5"
	}
	return "Microsoft Exchange Server 4.0"
}

// Complete returns r with the fields the catalogue determines filled in where
// they are empty: Source, Category, Type and Severity from Meta, Socket for
// 9215 and 9221 (10061 and 10054), and Text from Render. Time and MTA are left
// alone; Log.Emit fills those.
func Complete(r Record) Record {
	if r.Source == "" {
		r.Source = Source
	}
	if cat, typ, sev, ok := Meta(r.ID); ok {
		if r.Category == "" {
			r.Category = cat
		}
		if r.Type == "" {
			r.Type = typ
		}
		if r.Severity == 0 {
			r.Severity = sev
		}
	}
	if r.Socket == 0 {
		switch r.ID {
		case IDConnectRefused:
			r.Socket = WSAECONNREFUSED
		case IDConnReset:
			r.Socket = WSAECONNRESET
		}
	}
	if r.Text == "" {
		r.Text = Render(r)
	}
	return r
}
