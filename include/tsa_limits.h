/*
 * tsa_limits.h - every cap on untrusted input and on configuration, in one place.
 * Each is checked before anything grows; each says why it is what it is.
 */
#ifndef TSA_LIMITS_H
#define TSA_LIMITS_H

/* Request body: an RFC 3161 query is under 300 bytes, a SOAP request under 2 KB; 64 KiB
 * leaves room and is what the web server configs in deploy/ allow (client_max_body_size). */
#define TSA_MAX_BODY_DEFAULT	65536
/* The most an operator may configure: beyond this a body is never a timestamp request. */
#define TSA_MAX_BODY_CEILING	(1024 * 1024)
/* DER nesting: a TimeStampReq nests 4 deep; a response whose ESS issuerSerial carries a
 * directoryName reaches 18 (OpenSSL's and ours); 24 leaves room, nothing real goes deeper. */
#define TSA_MAX_DER_DEPTH	24
/* Elements of a SET or SEQUENCE OF walked in a token being verified (signed attributes,
 * digestAlgorithms, GeneralNames): libtasn1 finds element N in O(N), so the walk is capped. */
#define TSA_MAX_SET_ELEMENTS	16
/* Nonce: RFC 3161 suggests 64 bits; OpenSSL sends 64, Java 64, Windows 128; 32 octets is
 * generous and keeps the echo small. */
#define TSA_MAX_NONCE		32
/* Longest digest we know (SHA-512, SHA3-512). */
#define TSA_MAX_IMPRINT		64
/* Request extensions: none are defined for common clients; 8 is plenty to refuse politely. */
#define TSA_MAX_EXTENSIONS	8
/* Dotted-decimal OID text: 64 arcs of up to 10 digits would exceed this; real OIDs are < 64. */
#define TSA_MAX_OID_TEXT	128
/* Serial numbers: RFC 3161 2.4.2 allows up to 160 bits. */
#define TSA_SERIAL_MIN		8
#define TSA_SERIAL_MAX		20
/* Serial collisions retried before the request is refused (a second one is already ~2^-80). */
#define TSA_SERIAL_RETRIES	3
/* Configuration: policies per service, filters per policy, certificates per signer chain. */
#define TSA_MAX_POLICIES	64
#define TSA_MAX_FILTERS		32
#define TSA_MAX_FILTER_PARAMS	64
#define TSA_MAX_CHAIN		8
/* A certificate or a PEM bundle in the database: real ones are a few KB. */
#define TSA_MAX_PEM		(256 * 1024)
/* A token or response the verifier reads from a file. */
#define TSA_MAX_TOKEN_FILE	(1024 * 1024)
/* Seconds from accepting a FastCGI connection to having its whole request (params and body),
 * in tsa-fcgi and tsa-admin; then the connection is closed.  The web servers read a request
 * whole before they connect (nginx, lighttpd; Apache with mod_buffer, as deploy/ sets it), so
 * it arrives in milliseconds; 10 s leaves room for a 1 MiB body sent to a backend across a
 * slow link.  A whole-request bound, not a per-read one: a byte every few seconds cannot
 * stretch it. */
/* Where tsa-signer listens when tsa.conf names no signer_socket (the systemd unit's). */
#define TSA_SIGNER_SOCKET_DEFAULT	"/run/tsa-signer/signer.sock"
#define TSA_FCGI_REQUEST_DEADLINE	10
/* Connections one process holds while their requests arrive (src/fcgi/gate.c): a process
 * serves any whole request among them, so a few that stall cost only their slots; past 32 it
 * stops accepting and leaves new connections to the other workers and the listen backlog. */
#define TSA_FCGI_PENDING	32
/* Seconds a kept FastCGI connection (FCGI_KEEP_CONN) may wait idle in a worker's gate for its
 * next request: longer than the web servers keep an idle connection to the workers (deploy/:
 * nginx's upstream keepalive_timeout 60 s), so that the web server, which knows when it
 * reuses one, is the side that closes it; a connection it forgot is closed after this. */
#define TSA_FCGI_KEPT_IDLE	120
/* Bytes of a connection's queue looked at (MSG_PEEK) to see whether its request is whole: a
 * timestamp request with its params is a few KB, a console form at most 16 KiB plus params.
 * A larger one is handed to libfcgi at this size and read under the deadline's timer.  At
 * most what any sender can queue before it must wait for us: a unix socket is writable again
 * only below a quarter of its send buffer, so a select()-driven sender (libfcgi's cgi-fcgi)
 * stops at about 50 KB; 32 KiB stays below that. */
#define TSA_FCGI_PEEK		32768
/* One line of tsa.conf. */
#define TSA_MAX_CONF_LINE	4096
/* One line of the log: a refusal's line is under 400 bytes; a longer message is cut, "...". */
#define TSA_MAX_LOG_LINE	2048
/* A peer's text quoted in a refusal's detail (log line and event): an Algorithm URI is at
 * most 46 characters, a certificate subject a line; what a reader needs fits in 96. */
#define TSA_MAX_PEER_TEXT	96
/* libxml2's schema error, which quotes the peer's value: its own words are under 120
 * characters, so 200 keep the message and the start of the value. */
#define TSA_MAX_XML_ERROR_TEXT	200
/* An event's detail as stored, escapes included: the longest detail written is a refusal's
 * (about 300 characters); a cut one ends in "...". */
#define TSA_MAX_EVENT_DETAIL	512
/* Repeated refusals: a worker keeps this many (service, requester, kind, failure) keys per
 * interval, each one event row and one log line per interval with its count; past it the
 * requester is left out of the key, so a flood from many addresses still costs few rows. */
#define TSA_REFUSAL_SLOTS	64
/* Of those, the last 8 only for keys without the requester (one per service and failure). */
#define TSA_REFUSAL_SHARED_SLOTS 8
/* The interval: the first refusal of a key is written at once, its repeats within a second. */
#define TSA_REFUSAL_INTERVAL_MS	1000

/* genTime fractional digits (accuracy filter): 0 to 6, microseconds being the clock's grain. */
#define TSA_MAX_TIME_DIGITS	6

/* SOAP/XML request body: a real request is under 1 KB (2 KB indented); 16 KiB refuses anything
 * larger before libxml2 sees it, so no text or attribute node can grow beyond it. */
#define TSA_MAX_SOAP_BODY	16384
/* XML element nesting: Envelope/Body/service/TimeStampRequest/Digest/DigestMethod is 6 deep;
 * 16 leaves room for nothing real and stops deep-nesting attacks in the SAX callbacks. */
#define TSA_MAX_XML_DEPTH	16
/* SOAP Nonce: decimal digits; clients send 13 to 19, 40 hold 128 bits and fit TSA_MAX_NONCE. */
#define TSA_MAX_XML_NONCE_DIGITS 40
/* DigestValue text echoed verbatim: base64 of SHA-512 is 88 characters; 256 allows the line
 * breaks and spaces xs:base64Binary permits, and no more. */
#define TSA_MAX_XML_DIGEST_TEXT	256
/* An Algorithm URI echoed verbatim: the longest we know is 46 characters. */
#define TSA_MAX_XML_URI		128
/* The service URL in the live WSDL: a DNS name is at most 253 characters, an IPv6 literal
 * in brackets 47, a port 6 more (":65535"). */
#define TSA_MAX_URL_HOST	262
/* Its path: service locations are short ("/verificationserver/timestamp"); 512 is room. */
#define TSA_MAX_URL_PATH	512
/* The whole URL: "https://", the host and port, the path. */
#define TSA_MAX_URL		(8 + TSA_MAX_URL_HOST + TSA_MAX_URL_PATH)

/* Authenticode: the signature to countersign is an encryptedDigest, 512 octets for RSA-4096;
 * 1024 holds RSA-8192 and nothing real is larger. */
#define TSA_MAX_AUTHENTICODE_SIG	1024
/* Its base64 body: the DER request is the signature plus under 64 octets of structure, so
 * (1024 + 64) * 4 / 3 with a line break every 64 characters and a NUL is under 1600; 4 KiB. */
#define TSA_MAX_AUTHENTICODE_BODY	4096
/* Attributes of the request: none are sent today; a few are read past, more are refused. */
#define TSA_MAX_AUTHENTICODE_ATTRS	8

/* A server's name (tsa.conf's host, signers.host): one DNS label or a dotted name; the
 * servers of a TSA are few and named by their operator, and 63 characters (a DNS label)
 * name any of them.  Characters: letters, digits, '-' and '.', a letter or digit first. */
#define TSA_MAX_HOST_NAME	63

#endif
