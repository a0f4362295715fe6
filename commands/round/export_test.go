package round

// MaxName exposes maxName to the external tests.
const MaxName = maxName
