package eventlog

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Event Viewer's date and time layouts (en-US), used by FormatText and WriteCSV.
const (
	viewerDate = "1/2/2006"
	viewerTime = "3:04:05 PM"
)

// FormatText renders r as Event Viewer's text view of one event (the
// "copy to clipboard" block of Windows NT), with the date and time in UTC:
//
//	Event Type:	Warning
//	Event Source:	MSExchangeMTA
//	Event Category:	X.400 Service
//	Event ID:	1004
//	Date:	11/28/2026
//	Time:	9:00:00 PM
//	User:	N/A
//	Computer:	B
//	Description:
//	An error occurred while processing an association 1 with entity ...
func FormatText(r Record) string {
	t := r.Time.UTC()
	var b strings.Builder
	b.WriteString("Event Type:\t" + r.Type + "\n")
	b.WriteString("Event Source:\t" + r.Source + "\n")
	b.WriteString("Event Category:\t" + r.Category + "\n")
	b.WriteString("Event ID:\t" + strconv.Itoa(r.ID) + "\n")
	b.WriteString("Date:\t" + t.Format(viewerDate) + "\n")
	b.WriteString("Time:\t" + t.Format(viewerTime) + "\n")
	b.WriteString("User:\tN/A\n")
	b.WriteString("Computer:\t" + r.MTA + "\n")
	b.WriteString("Description:\n")
	b.WriteString(r.Text + "\n")
	return b.String()
}

// WriteText writes recs to w as FormatText blocks separated by blank lines.
func WriteText(w io.Writer, recs []Record) error {
	for i, r := range recs {
		s := FormatText(r)
		if i > 0 {
			s = "\n" + s
		}
		if _, err := io.WriteString(w, s); err != nil {
			return fmt.Errorf("eventlog: write text: %w", err)
		}
	}
	return nil
}
