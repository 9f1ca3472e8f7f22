package snapshot

// EncodingJSONOnly lets the external tests turn the fast readers off.
var EncodingJSONOnly = &encodingJSONOnly
