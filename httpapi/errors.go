package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/outlethq/outlet"
)

// statusOf maps error codes to HTTP statuses, in this one place.
func statusOf(code string) int {
	switch code {
	case outlet.EMALFORMED:
		return http.StatusBadRequest
	case outlet.EINVALID:
		return http.StatusUnprocessableEntity
	case outlet.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case outlet.EFORBIDDEN:
		return http.StatusForbidden
	case outlet.ENOTFOUND:
		return http.StatusNotFound
	case outlet.ECONFLICT:
		return http.StatusConflict
	case outlet.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case outlet.ERATELIMIT:
		return http.StatusTooManyRequests
	case outlet.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError answers with err's status and {"error":{"code","message"}}. Only
// internal errors and unavailability are logged: they are ours to fix.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := outlet.ErrorCode(err)
	switch code {
	case outlet.EINTERNAL:
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	case outlet.EUNAVAILABLE:
		log.Warn("request refused: store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, statusOf(code), errorBody{errorDetail{Code: code, Message: outlet.ErrorMessage(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.Encode(v)
	}
}
