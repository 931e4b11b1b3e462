package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// A list the server serves in pages comes back whole: the client follows
// Codexgov-Next-Cursor until there is none.
func TestListsFollowPages(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("after"))
		end := min(start+2, len(items))
		if end < len(items) {
			w.Header().Set(NextCursorHeader, strconv.Itoa(end))
		}
		json.NewEncoder(w).Encode(items[start:end])
	}))
	defer srv.Close()
	var got []string
	if err := New(srv.URL, "k").Do(context.Background(), "GET", "/api/v1/things?x=1", nil, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(items) {
		t.Fatalf("got %v, want %v", got, items)
	}
	for i := range items {
		if got[i] != items[i] {
			t.Fatalf("got %v, want %v", got, items)
		}
	}
}
