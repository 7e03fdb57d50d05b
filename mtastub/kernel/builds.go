package kernel

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// BuildInfo describes one build of the MTA (CATALOGUE.md C1): a version
// banner and the set of known defects it carries.
type BuildInfo struct {
	// Name is the build's name, e.g. "5.5-sp2".
	Name string `json:"name"`
	// Alias is the old mode name ("sp0", "sp2"), empty for the 5.5 builds.
	Alias string `json:"alias,omitempty"`
	// Banner is the build number the 9298/9299 banners show, e.g. "2448.4".
	Banner string `json:"banner"`
	// Product is the product the banners name, e.g. "Microsoft Exchange Server 5.5".
	Product string `json:"product"`
	// Defects are the KB ids of the defects present, in catalogue order.
	Defects []string `json:"defects"`
}

// DefectInfo describes one known defect (CATALOGUE.md C2).
type DefectInfo struct {
	// KB is the Knowledge Base article, e.g. "Q229643".
	KB string `json:"kb"`
	// Title is the article's title, shortened.
	Title string `json:"title"`
	// Build is the build that carries the defect.
	Build string `json:"build"`
	// FixedIn is the first build without it.
	FixedIn string `json:"fixed_in"`
}

// The KB ids of the defects the kernel models.
const (
	// KBQ152877 is the Exchange 4.0 KCB leak on an open error.
	KBQ152877 = "Q152877"
	// KBQ229643 is the Exchange 5.5 SP2 initiator leak after the transfer timer.
	KBQ229643 = "Q229643"
	// KBQ232602 is the Exchange 5.5 SP2 failure to recover an association after a network problem.
	KBQ232602 = "Q232602"
	// KBQ247419 is the Exchange 5.5 SP3 responder leak after the reassembly timer.
	KBQ247419 = "Q247419"
)

// DefaultBuild is the build of a Config whose Build is empty.
const DefaultBuild = "4.0-sp2"

var (
	product40 = eventlog.ProductOf(eventlog.BuildSP2)
	product55 = eventlog.ProductOf(eventlog.Build55SP2)
)

// builds is the C1 table, in its order.
var buildTable = []BuildInfo{
	{Name: "4.0", Alias: "sp0", Banner: eventlog.BuildSP0, Product: product40, Defects: []string{KBQ152877}},
	{Name: "4.0-sp2", Alias: "sp2", Banner: eventlog.BuildSP2, Product: product40},
	{Name: "5.5-sp2", Banner: eventlog.Build55SP2, Product: product55, Defects: []string{KBQ229643, KBQ232602}},
	{Name: "5.5-sp3", Banner: eventlog.Build55SP3, Product: product55, Defects: []string{KBQ247419}},
	{Name: "5.5-sp4", Banner: eventlog.Build55SP4, Product: product55},
}

// defects is the C2 table, in catalogue order.
var defectTable = []DefectInfo{
	{KB: KBQ152877, Title: "KCB leaked on an open error", Build: "4.0", FixedIn: "4.0-sp2"},
	{KB: KBQ229643, Title: "Control blocks leak under stress or slow links", Build: "5.5-sp2", FixedIn: "5.5-sp3"},
	{KB: KBQ232602, Title: "MTA fails to recover associations after network problems", Build: "5.5-sp2", FixedIn: "5.5-sp3"},
	{KB: KBQ247419, Title: "Control blocks still leak under stress or slow connections", Build: "5.5-sp3", FixedIn: "5.5-sp4"},
}

// ModeName is what the old mode fields show for b: its alias (sp0, sp2)
// when it has one, else its name.
func (b BuildInfo) ModeName() string {
	if b.Alias != "" {
		return b.Alias
	}
	return b.Name
}

func (b BuildInfo) clone() BuildInfo {
	b.Defects = slices.Clone(b.Defects)
	return b
}

// Builds returns the five builds of CATALOGUE.md C1, in its order.
func Builds() []BuildInfo {
	out := make([]BuildInfo, len(buildTable))
	for i, b := range buildTable {
		out[i] = b.clone()
	}
	return out
}

// LookupBuild finds a build by its name or alias (case-insensitive).
func LookupBuild(nameOrAlias string) (BuildInfo, bool) {
	for _, b := range buildTable {
		if strings.EqualFold(nameOrAlias, b.Name) || b.Alias != "" && strings.EqualFold(nameOrAlias, b.Alias) {
			return b.clone(), true
		}
	}
	return BuildInfo{}, false
}

// Defects returns the defects the kernel models, in catalogue order.
func Defects() []DefectInfo { return slices.Clone(defectTable) }

// LookupDefect finds a defect by its KB id ("Q229643"; case-insensitive).
func LookupDefect(kb string) (DefectInfo, bool) {
	for _, d := range defectTable {
		if strings.EqualFold(kb, d.KB) {
			return d, true
		}
	}
	return DefectInfo{}, false
}

// buildNames lists the accepted build names and aliases, for errors.
func buildNames() string {
	var names []string
	for _, b := range buildTable {
		n := b.Name
		if b.Alias != "" {
			n += " (" + b.Alias + ")"
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// defectNames lists the known KB ids, for errors.
func defectNames() string {
	var names []string
	for _, d := range defectTable {
		names = append(names, d.KB)
	}
	return strings.Join(names, ", ")
}

// ResolveBuild checks a build name or alias ("" is DefaultBuild) and,
// when override is set, a defect list, and returns the build and the KB
// ids of the defects a kernel so configured runs with, in catalogue order:
// the build's own, or exactly defects when override is set. An unknown
// build or KB id is an error naming it; so are defects without override.
func ResolveBuild(build string, defects []string, override bool) (BuildInfo, []string, error) {
	name := build
	if name == "" {
		name = DefaultBuild
	}
	b, ok := LookupBuild(name)
	if !ok {
		return BuildInfo{}, nil, fmt.Errorf("build %q (want one of %s)", build, buildNames())
	}
	set := b.Defects
	if override {
		set = nil
		for _, kb := range defects {
			d, ok := LookupDefect(kb)
			if !ok {
				return BuildInfo{}, nil, fmt.Errorf("defect %q (want one of %s)", kb, defectNames())
			}
			set = append(set, d.KB)
		}
	} else if len(defects) > 0 {
		return BuildInfo{}, nil, fmt.Errorf("defects %v given without OverrideDefects", defects)
	}
	// Catalogue order, each once; never nil (JSON shows [] for none).
	out := []string{}
	for _, d := range defectTable {
		if slices.Contains(set, d.KB) {
			out = append(out, d.KB)
		}
	}
	return b, out, nil
}

// resolveBuild is ResolveBuild for cfg, its errors prefixed for the kernel.
func (cfg *Config) resolveBuild() (BuildInfo, []string, error) {
	b, d, err := ResolveBuild(cfg.Build, cfg.Defects, cfg.OverrideDefects)
	if err != nil {
		return BuildInfo{}, nil, fmt.Errorf("kernel: %s: config: %w", cfg.Name, err)
	}
	return b, d, nil
}
