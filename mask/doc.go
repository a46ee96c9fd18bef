// Package mask holds the masking policy that every part of otelkit applies
// before it writes a value anywhere: error info in response bodies and
// telemetry, audit attributes and rendered audit messages, and the extras of
// captured errors.
//
// A [Policy] decides by key: a key is sensitive when it contains one of the
// policy's words, compared without regard to ASCII case. The default words are
// password, secret, token, authorization, cookie and api_key, so
// "user_password", "Authorization", "refresh_token" and "x_api_key" are masked
// while "user" and "client_ip" are not. Values of sensitive keys are replaced
// by [Mask]; the key itself is kept so that readers see that a value existed.
//
// One policy object is shared: [Default] returns the process-wide policy that
// errorsx, httpx, auditx and otelbridge use unless they are given another one
// with their WithMask options.
package mask
