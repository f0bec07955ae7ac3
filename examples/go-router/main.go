// A minimal event router speaking treasure's target protocol (docs/target-protocol.md):
// 4-byte big-endian length-prefixed frames on a Unix socket or TCP, replies in order per
// connection. It routes the default fields (event_type, player_id, session_id) with a
// line-based reader of top-level `key: value` lines: a reference for the protocol, not a
// YAML parser (see README.md).
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode/utf8"
)

const maxRequest = 1 << 20

var fields = []string{"event_type", "player_id", "session_id"}

// Status bytes of a reply.
const (
	routed    = 0
	syntax    = 1
	limit     = 2
	unsafeTag = 3
	encoding  = 4
	schema    = 5
)

type routeError struct {
	status  byte
	message string
}

func route(payload []byte) ([]string, *routeError) {
	if !utf8.Valid(payload) {
		return nil, &routeError{encoding, "payload is not valid UTF-8"}
	}
	found := map[string]string{}
	for _, line := range strings.Split(string(payload), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == ' ' || line[0] == '#' || line == "---" || line == "..." {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		value = strings.TrimSpace(value)
		if _, twice := found[key]; twice && isField(key) {
			return nil, &routeError{schema, "duplicate routing key " + key}
		}
		if strings.HasPrefix(value, "!") && !strings.HasPrefix(value, "!!str ") {
			return nil, &routeError{unsafeTag, "tag on " + key + " is not allowed"}
		}
		found[key] = unquote(strings.TrimPrefix(value, "!!str "))
	}
	values := make([]string, 0, len(fields))
	for _, name := range fields {
		value, ok := found[name]
		if !ok || value == "" {
			return nil, &routeError{schema, "missing routing field '" + name + "'"}
		}
		values = append(values, value)
	}
	return values, nil
}

func isField(key string) bool {
	for _, name := range fields {
		if key == name {
			return true
		}
	}
	return false
}

func unquote(value string) string {
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		return value[1 : len(value)-1]
	}
	if cut := strings.Index(value, " #"); cut >= 0 {
		return strings.TrimSpace(value[:cut])
	}
	return value
}

func appendBlob(out []byte, data []byte) []byte {
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	return append(out, data...)
}

func reply(payload []byte) []byte {
	values, failure := route(payload)
	var body []byte
	if failure != nil {
		body = append([]byte{failure.status}, failure.message...)
	} else {
		body = []byte{routed}
		for _, value := range values {
			body = appendBlob(body, []byte(value))
		}
	}
	return appendBlob(nil, body)
}

func serve(conn net.Conn) {
	defer conn.Close()
	reader := bufio.NewReaderSize(conn, 64<<10)
	writer := bufio.NewWriterSize(conn, 64<<10)
	header := make([]byte, 4)
	for {
		if _, err := io.ReadFull(reader, header); err != nil {
			writer.Flush()
			return
		}
		size := binary.BigEndian.Uint32(header)
		if size > maxRequest {
			writer.Write(appendBlob(nil, append([]byte{limit}, "request too large"...)))
			writer.Flush()
			return
		}
		payload := make([]byte, size)
		if _, err := io.ReadFull(reader, payload); err != nil {
			writer.Flush()
			return
		}
		writer.Write(reply(payload))
		// Flush only when no further request is already buffered: one write per burst.
		if reader.Buffered() == 0 {
			if err := writer.Flush(); err != nil {
				return
			}
		}
	}
}

func main() {
	unixPath := flag.String("unix", "", "listen on this Unix socket path")
	tcpAddress := flag.String("tcp", "", "listen on this TCP HOST:PORT")
	flag.Parse()
	var listener net.Listener
	var err error
	switch {
	case *unixPath != "":
		os.Remove(*unixPath)
		listener, err = net.Listen("unix", *unixPath)
	case *tcpAddress != "":
		listener, err = net.Listen("tcp", *tcpAddress)
	default:
		fmt.Fprintln(os.Stderr, "go-router: give -unix PATH or -tcp HOST:PORT")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-router:", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-stop
		listener.Close()
		os.Exit(0)
	}()
	fmt.Println("listening on", listener.Addr().Network()+":"+listener.Addr().String())
	for {
		conn, err := listener.Accept()
		if err != nil {
			return
		}
		go serve(conn)
	}
}
