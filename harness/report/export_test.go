package report

// CheckReportHTML lends checkReportHTML to the external tests (report_test),
// which check the report.html of real runs.
var CheckReportHTML = checkReportHTML

// SyntheticOrg lends syntheticOrg to the external tests: the browser test
// opens the report of a synthetic 200-MTA run.
var SyntheticOrg = syntheticOrg
