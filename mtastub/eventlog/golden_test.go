package eventlog

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// kbEntity is the entity of the KB's 1004 example after normalisation.
const kbEntity = "/O=organization/OU=site/CN=CONFIGURATION/CN=SERVERS/CN=MICROSOFT MTA"

// kbOwnDN is the DN in the KB's 1277 example after normalisation.
const kbOwnDN = "/O=Organization/OU=Site/CN=CONFIGURATION/CN=SERVERS/CN=Servername/CN=MICROSOFT MTA"

var headerRE = regexp.MustCompile(`Event ID (\d+)$`)

// readKBExamples returns the verbatim example texts of
// testdata/q152877-examples.txt by event ID, lines joined with "\n".
func readKBExamples(t *testing.T) map[int]string {
	t.Helper()
	f, err := os.Open("testdata/q152877-examples.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int]string{}
	id := 0
	var lines []string
	flush := func() {
		if id != 0 && len(lines) > 0 {
			out[id] = strings.Join(lines, "\n")
		}
		lines = nil
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case headerRE.MatchString(line):
			flush()
			id, _ = strconv.Atoi(headerRE.FindStringSubmatch(line)[1])
		case strings.TrimSpace(line) == "":
			if len(lines) > 0 {
				flush()
				id = 0
			}
		default:
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	return out
}

// normaliseKB turns a KB example, as printed, into the one-line text the MTA
// logs. Exactly these rules are applied, in this order:
//
//  1. Whitespace: the lines are joined and every run of whitespace becomes a
//     single space (the KB wraps the texts at 80 columns).
//  2. "CN= " becomes "CN=": the 1277 example is wrapped inside its DN, right
//     after "CN=" ("CN=\nServername"); rule 1 put a space there that the DN
//     does not have.
//  3. "CN=SERVERS /CN" becomes "CN=SERVERS/CN": a stray space inside the 1004
//     example's DN.
//  4. "with entity./" becomes "with entity /": the 1004 example prints
//     "with entity./O=..." where the 1008 and 1198 examples print
//     "with entity ." / "to entity ." for a blank entity; DESIGN.md section 4
//     reads the template as "with entity {entity}." (space, the DN, then the
//     sentence's full stop), so the KB's dot before the DN is dropped in
//     favour of a space. The full stop after the DN is in the KB already.
func normaliseKB(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	s = strings.ReplaceAll(s, "CN= ", "CN=")
	s = strings.ReplaceAll(s, "CN=SERVERS /CN", "CN=SERVERS/CN")
	s = strings.ReplaceAll(s, "with entity./", "with entity /")
	return s
}

// TestRenderMatchesKB renders the KB's four examples from their variable
// fields and compares the result, word for word, with the KB text.
func TestRenderMatchesKB(t *testing.T) {
	kb := readKBExamples(t)
	cases := []struct {
		name string
		rec  Record
	}{
		{"1004", Record{ID: IDAssocError, Assoc: 1, Entity: kbEntity, State: 2, Svc: 20, Flavor: 1, Reason: 8}},
		{"1008", Record{ID: IDAssocErrorAnon, State: 2, Svc: 26}},
		{"1277", Record{ID: IDConnRefused, KCB: 6, OwnDN: kbOwnDN}},
		{"1198", Record{ID: IDStateCheck, State: 0, Svc: 20, Flavor: 2, KCB: 3, Entity: ""}},
	}
	if len(kb) != len(cases) {
		t.Fatalf("testdata holds %d examples, want %d: %v", len(kb), len(cases), kb)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, ok := kb[tc.rec.ID]
			if !ok {
				t.Fatalf("no KB example for event %d in testdata", tc.rec.ID)
			}
			want := normaliseKB(raw)
			got := Render(tc.rec)
			if strings.ContainsAny(got, "\r\n") {
				t.Errorf("Render(%d) spans lines: %q", tc.rec.ID, got)
			}
			gw, ww := strings.Split(got, " "), strings.Split(want, " ")
			for i := 0; i < len(gw) && i < len(ww); i++ {
				if gw[i] != ww[i] {
					t.Fatalf("event %d: word %d is %q, KB has %q\n got: %s\nwant: %s", tc.rec.ID, i+1, gw[i], ww[i], got, want)
				}
			}
			if len(gw) != len(ww) || got != want {
				t.Fatalf("event %d: %d words, KB has %d\n got: %q\nwant: %q", tc.rec.ID, len(gw), len(ww), got, want)
			}
		})
	}
}

// TestNormaliseKBRules pins the normalisation itself, so a change to it is
// a visible decision rather than a silent way to make the golden test pass.
func TestNormaliseKBRules(t *testing.T) {
	kb := readKBExamples(t)
	if got := normaliseKB(kb[IDAssocError]); !strings.Contains(got, "with entity "+kbEntity+". The association") {
		t.Errorf("1004 normalised to %q", got)
	}
	if got := normaliseKB(kb[IDConnRefused]); !strings.Contains(got, "Type1["+kbOwnDN+" PLATFORM KERNEL] (14)") {
		t.Errorf("1277 normalised to %q", got)
	}
	// 1008 and 1198 need only rule 1.
	for _, id := range []int{IDAssocErrorAnon, IDStateCheck} {
		if got, ws := normaliseKB(kb[id]), strings.Join(strings.Fields(kb[id]), " "); got != ws {
			t.Errorf("%d: rules beyond whitespace changed %q into %q", id, ws, got)
		}
	}
}

// TestDNMatchesKB checks that DN builds the KB's 1277 DN.
func TestDNMatchesKB(t *testing.T) {
	if got := DN("Organization", "Site", "Servername"); got != kbOwnDN {
		t.Errorf("DN = %q, want %q", got, kbOwnDN)
	}
}
