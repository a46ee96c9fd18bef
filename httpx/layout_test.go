package httpx

import (
	"net/http"
	"testing"
	"unsafe"
)

// TestExchangeLayout pins the size of the one allocation every request
// costs: the exchange (context, request copy, response writer). Its own
// fields take 80 B besides the http.Request copy, which puts it in the
// 384-byte size class with Go 1.26's 304-byte http.Request (it was 416 B).
// A field added to the exchange is a conscious decision: derive what few
// requests use (see exchange.outer).
func TestExchangeLayout(t *testing.T) {
	own := unsafe.Sizeof(exchange{}) - unsafe.Sizeof(http.Request{})
	if own != 80 {
		t.Errorf("the exchange's own fields take %d B, want 80", own)
	}
	if got := unsafe.Sizeof(exchange{}); got > 384 {
		t.Errorf("unsafe.Sizeof(exchange{}) = %d, want <= 384 (http.Request is %d B)", got, unsafe.Sizeof(http.Request{}))
	}
}
