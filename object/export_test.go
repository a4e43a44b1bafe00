package object

// What the external tests (disasm_test.go, which assembles listings and so cannot be inside the
// package: asm imports it) use of the package's own.
var (
	ObjSample  = objSample
	ObjMust    = objMust
	ObjMarshal = objMarshal
	DisQuote   = disQuote
	DisNumber  = disNumber
	DisIndent  = disIndent
	ObjCmpOpts = objCmpOpts
)
