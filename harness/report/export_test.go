package report

// CheckReportHTML lends checkReportHTML to the external tests (report_test),
// which check the report.html of real runs.
var CheckReportHTML = checkReportHTML
