package eventlog

import (
	"strings"
	"testing"
)

func TestMeta(t *testing.T) {
	cases := []struct {
		id       int
		category string
		typ      string
		severity int
	}{
		{IDAssocError, "X.400 Service", "Warning", 14},
		{IDAssocErrorAnon, "X.400 Service", "Warning", 14},
		{IDStateCheck, "X.400 Service", "Warning", 14},
		{IDConnRefused, "Interoperability", "Warning", 14},
		{IDLostConnections, "X.400 Service", "Warning", 14},
		{IDConnError, "X.400 Service", "Warning", 14},
		{IDInternalError, "X.400 Service", "Warning", 14},
		{IDNoControlBlocks, "Resource", "Warning", 10},
		{IDConnectRefused, "Operating System", "Warning", 12},
		{IDConnReset, "Operating System", "Warning", 12},
		{IDAbnormalEnd, "X.400 Service", "Warning", 10},
		{IDStart, "Operating System", "Information", 10},
		{IDStop, "Operating System", "Information", 10},
	}
	for _, tc := range cases {
		cat, typ, sev, ok := Meta(tc.id)
		if !ok || cat != tc.category || typ != tc.typ || sev != tc.severity {
			t.Errorf("Meta(%d) = %q, %q, %d, %v; want %q, %q, %d, true", tc.id, cat, typ, sev, ok, tc.category, tc.typ, tc.severity)
		}
	}
	if _, _, _, ok := Meta(4242); ok {
		t.Error("Meta(4242) ok = true, want false")
	}
	if len(IDs()) != len(cases) {
		t.Errorf("IDs() = %v, want %d ids", IDs(), len(cases))
	}
	for _, id := range CoreIDs() {
		if Companion(id) || !Known(id) {
			t.Errorf("core id %d: Companion = %v, Known = %v", id, Companion(id), Known(id))
		}
	}
	if !Companion(IDStart) || Companion(4242) {
		t.Error("Companion misclassifies 9298 or an unknown id")
	}
	// 2035, 4284 and 4287 are the 5.5 builds' own events, not companions.
	for _, id := range []int{IDLostConnections, IDConnError, IDInternalError} {
		if Companion(id) {
			t.Errorf("%d is a companion", id)
		}
	}
}

func TestDN(t *testing.T) {
	if got, want := DN("", "", "A"), "/O=ORG/OU=SITE/CN=CONFIGURATION/CN=SERVERS/CN=A/CN=MICROSOFT MTA"; got != want {
		t.Errorf("DN = %q, want %q", got, want)
	}
	if got, want := DN("Contoso", "", "B"), "/O=Contoso/OU=SITE/CN=CONFIGURATION/CN=SERVERS/CN=B/CN=MICROSOFT MTA"; got != want {
		t.Errorf("DN = %q, want %q", got, want)
	}
}

func TestBuildFor(t *testing.T) {
	for in, want := range map[string]string{"sp0": "838.10", "4.0": "838.10", "sp2": "993.6", "4.0-sp2": "993.6",
		"5.5-sp2": "2448.4", "5.5-sp3": "2650.24", "5.5-sp4": "2653.23", "x": "", "5.5": ""} {
		if got := BuildFor(in); got != want {
			t.Errorf("BuildFor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderCompanions(t *testing.T) {
	ent := DN("", "", "A")
	cases := []struct {
		rec  Record
		want string
	}{
		{Record{ID: IDNoControlBlocks, Limit: 8},
			"A resource limit has been reached while attempting to open an association. There are no free control blocks available for network type 1. The configured count is 8. [BASE IL MAIN BASE 1 282] (10)"},
		{Record{ID: IDConnectRefused, KCB: 1},
			"A sockets error 10061 on a connect() call was detected. The MTA will attempt to recover the sockets connection. Control block index: 1. [BASE IL TCP/IP DRVR 8 274] (12)"},
		{Record{ID: IDConnReset, KCB: 2},
			"A sockets error 10054 on a WSARecvEx() call was detected. The MTA will attempt to recover the sockets connection. Control block index: 2. [BASE IL TCP/IP DRVR 10 262] (12)"},
		{Record{ID: IDConnReset, KCB: 2, Socket: 10053},
			"A sockets error 10053 on a WSARecvEx() call was detected. The MTA will attempt to recover the sockets connection. Control block index: 2. [BASE IL TCP/IP DRVR 10 262] (12)"},
		{Record{ID: IDAbnormalEnd, Entity: ent, State: 3, Svc: 20, Flavor: 1, Reason: 2},
			"An association with entity " + ent + " ended abnormally. [3 20 1 2 PLATFORM KERNEL 20 130] (10)"},
		{Record{ID: IDStart, Build: BuildSP0},
			"The message transfer agent (MTA) has started. Microsoft Exchange Server 4.0 (Build 838.10). (10)"},
		{Record{ID: IDStop, Build: BuildSP2},
			"The message transfer agent (MTA) has stopped. Microsoft Exchange Server 4.0 (Build 993.6). (10)"},
		{Record{ID: IDStart},
			"The message transfer agent (MTA) has started. (10)"},
		{Record{ID: IDStart, Build: Build55SP2},
			"The message transfer agent (MTA) has started. Microsoft Exchange Server 5.5 (Build 2448.4). (10)"},
		{Record{ID: IDStop, Build: Build55SP3},
			"The message transfer agent (MTA) has stopped. Microsoft Exchange Server 5.5 (Build 2650.24). (10)"},
		{Record{ID: IDStart, Build: Build55SP4},
			"The message transfer agent (MTA) has started. Microsoft Exchange Server 5.5 (Build 2653.23). (10)"},
		{Record{ID: 4242},
			"The description for Event ID ( 4242 ) in Source ( MSExchangeMTA ) cannot be found."},
	}
	for _, tc := range cases {
		if got := Render(tc.rec); got != tc.want {
			t.Errorf("Render(%d)\n got %q\nwant %q", tc.rec.ID, got, tc.want)
		}
	}
}

func TestRenderDesignExample(t *testing.T) {
	// DESIGN.md section 4: B logs a 1004 about A with the KB's own tuple.
	got := Render(Record{ID: IDAssocError, Assoc: 1, Entity: DN("", "", "A"), State: 2, Svc: 20, Flavor: 1, Reason: 8})
	want := "An error occurred while processing an association 1 with entity /O=ORG/OU=SITE/CN=CONFIGURATION/CN=SERVERS/CN=A/CN=MICROSOFT MTA. The association will be terminated and restarted if necessary. [2 20 1 8 PLATFORM KERNEL 10] (14)"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestComplete(t *testing.T) {
	r := Complete(Record{ID: IDConnRefused, KCB: 6, OwnDN: DN("", "", "B")})
	if r.Source != Source || r.Category != "Interoperability" || r.Type != "Warning" || r.Severity != 14 {
		t.Errorf("Complete meta: %+v", r)
	}
	if !strings.Contains(r.Text, "Control block index 6. Type1["+DN("", "", "B")+" PLATFORM KERNEL] (14)") {
		t.Errorf("Complete text: %q", r.Text)
	}
	if r := Complete(Record{ID: IDConnectRefused}); r.Socket != 10061 {
		t.Errorf("9215 socket = %d, want 10061", r.Socket)
	}
	if r := Complete(Record{ID: IDConnReset}); r.Socket != 10054 {
		t.Errorf("9221 socket = %d, want 10054", r.Socket)
	}
	if r := Complete(Record{ID: IDAssocError, Text: "kept"}); r.Text != "kept" {
		t.Errorf("Complete overwrote a given text: %q", r.Text)
	}
}
