package engine

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ReadProgress reads one of the engine's JSON progress streams (build,
// push, pull, load) to its end and returns the failure it reports. The
// engine has already answered 200 when such an operation fails, so the
// failure only shows in the stream: Engine 20.10 sends it in both "error"
// and "errorDetail", newer engines only in "errorDetail".
func ReadProgress(r io.Reader) error {
	var failure error
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return failure
		} else if err != nil {
			return errors.Join(failure, fmt.Errorf("read progress stream: %w", err))
		}
		if m := cmp.Or(msg.ErrorDetail.Message, msg.Error); m != "" && failure == nil {
			failure = errors.New(m)
		}
	}
}
