package eventlog

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// csvHeader is the header row of WriteCSV, as Event Viewer exports it.
var csvHeader = []string{"Level", "Date and Time", "Source", "Event ID", "Task Category", "Description"}

// CSVHeader returns the header row WriteCSV writes: Level, Date and Time,
// Source, Event ID, Task Category, Description.
func CSVHeader() []string {
	return append([]string(nil), csvHeader...)
}

// WriteCSV writes recs to w the way Event Viewer's "Save All Events As...
// CSV" does: the CSVHeader row, then one row per record with the type as
// Level, the UTC date and time as "11/28/2026 9:00:00 PM", the source, the
// event ID, the category as Task Category and the text as Description.
// Fields are quoted by encoding/csv rules and rows end in CRLF.
func WriteCSV(w io.Writer, recs []Record) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("eventlog: write csv header: %w", err)
	}
	for _, r := range recs {
		row := []string{
			r.Type,
			r.Time.UTC().Format(viewerDate + " " + viewerTime),
			r.Source,
			strconv.Itoa(r.ID),
			r.Category,
			r.Text,
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("eventlog: write csv event %d: %w", r.ID, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("eventlog: write csv: %w", err)
	}
	return nil
}
