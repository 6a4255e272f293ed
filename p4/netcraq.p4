/*
 * NetCRAQ v1 for the PSA architecture (issue 14): CRAQ chain replication of hot etcd keys in a
 * switch, the same wire format (libs/protocol/src/craq, bpf/craq/craq_kern_user.h) and the same
 * state machine as the XDP node bpf/craq/craq.bpf.c, whose TypeScript reference model
 * (bpf/craq/model.ts) both are checked against (bpf/craq/p4info.ts, bpf/craq/p4.test.ts).
 *
 * NOT COMPILED OR RUN: there is no P4 compiler (p4c) or target (BMv2 psa_switch) on the machine
 * this was written on; see p4/README.md.
 *
 * One packet in, one packet out, as in XDP: the tail ACKs up the chain and the head answers the
 * writer; a dirty read becomes a VERSION_QUERY to the tail and is answered on its VERSION_REPLY.
 * NetChain mode (set_node netchain = 1, the baseline): reads travel to the tail; every node
 * applies a write newer than its current version as current and forwards it, and the tail
 * commits it and answers the writer (no ACK); a retry the head applied already is re-sent down
 * the chain as its version and answered OK by the tail.
 * P4 v1 limits: values of at most CRAQ_P4_WORDS 32-bit words (128 B) and value_len a multiple of
 * 4 (others are sent to the CPU port, like keys not placed); CRAQ_SLOTS versions per key kept in
 * register arrays indexed key_index * CRAQ_SLOTS + version % CRAQ_SLOTS.
 */
#include <core.p4>
#include <psa.p4>

#ifndef CRAQ_P4_KEYS
#define CRAQ_P4_KEYS 4096
#endif
#ifndef CRAQ_SLOTS
#define CRAQ_SLOTS 5            /* CRAQ_MAX_DIRTY + 1 */
#endif
#define CRAQ_MAX_DIRTY (CRAQ_SLOTS - 1)
#ifndef CRAQ_P4_REQUESTS
#define CRAQ_P4_REQUESTS 65536  /* at-most-once: request records, direct-mapped by a hash of (req_id, key_id) */
#endif
#define CRAQ_P4_WORDS 32
#define CRAQ_PORT 7480
#define CRAQ_MAGIC 0x4e43

/* ops, statuses, flags (craq_kern_user.h) */
#define OP_READ 1
#define OP_WRITE 2
#define OP_DELETE 3
#define OP_PROPAGATE 4
#define OP_ACK 5
#define OP_VERSION_QUERY 6
#define OP_VERSION_REPLY 7
#define OP_REPLY_BIT 0x80
#define ST_OK 0
#define ST_NOT_FOUND 1
#define ST_NOT_PLACED 2
#define ST_NOT_HEAD 3
#define ST_RETRY 4
#define F_FROM_TAIL 0x01
#define F_CLIENT 0x02
#define F_TOMBSTONE 0x04

/* reasons (enum craq_reason) */
#define R_NOT_PLACED 2
#define R_KEY_CHECK 3
#define R_REPLY 4
#define R_TRUNCATED 6
#define R_BAD_HEADER 7
#define R_UNKNOWN_OP 8
#define R_VALUE_TOO_LARGE 9
#define R_WRONG_EPOCH 11
#define R_FORGED 12
#define R_NOT_TAIL 13
#define R_STALE 14
#define R_DIRTY_FULL 15
#define R_MAX 19

typedef bit<48> mac_addr_t;
typedef bit<32> ipv4_addr_t;
typedef bit<128> ipv6_addr_t;

header ethernet_t {
    mac_addr_t dst_addr;
    mac_addr_t src_addr;
    bit<16> ether_type;
}

header ipv4_t {
    bit<4> version;
    bit<4> ihl;
    bit<8> tos;
    bit<16> total_len;
    bit<16> identification;
    bit<3> flags;
    bit<13> frag_offset;
    bit<8> ttl;
    bit<8> protocol;
    bit<16> hdr_checksum;
    ipv4_addr_t src_addr;
    ipv4_addr_t dst_addr;
}

header ipv6_t {
    bit<4> version;
    bit<8> traffic_class;
    bit<20> flow_label;
    bit<16> payload_len;
    bit<8> next_hdr;
    bit<8> hop_limit;
    ipv6_addr_t src_addr;
    ipv6_addr_t dst_addr;
}

header udp_t {
    bit<16> src_port;
    bit<16> dst_port;
    bit<16> length;
    bit<16> checksum;
}

/* struct craq_hdr: 40 bytes */
header craq_t {
    bit<16> magic;
    bit<8> version;
    bit<8> op;
    bit<8> status;
    bit<8> flags;
    bit<16> value_len;
    bit<64> req_id;
    bit<64> key_id;
    bit<32> key_check;
    bit<32> epoch;
    bit<64> ver;
}

header craq_word_t {
    bit<32> w;
}

/* struct craq_trailer: 28 bytes */
header craq_trailer_t {
    bit<8> family;
    bit<8> pad;
    bit<16> port;
    bit<128> addr;
    mac_addr_t mac;
    bit<16> pad2;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t ipv4;
    ipv6_t ipv6;
    udp_t udp;
    craq_t craq;
    craq_word_t[CRAQ_P4_WORDS] value;
    craq_trailer_t trailer;
}

struct metadata_t {
    bit<8> family;
    bit<16> words;            /* value words left to parse */
    bit<8> reason;            /* enum craq_reason; 0: not counted */
    bit<32> key_index;
    bit<1> placed;
    bit<1> to_cpu;
    bit<1> drop;
    bit<32> slot;             /* register index of a version: key_index * CRAQ_SLOTS + v % CRAQ_SLOTS */
    bit<64> clean;
    bit<64> last;
    bit<64> v;
    bit<32> req_index;        /* craq_req_* index of (req_id, key_id) */
    bit<64> done;             /* the version this WRITE/DELETE's request already created (0: none) */
    /* this node (craq_config) */
    bit<1> head;
    bit<1> tail;
    bit<1> netchain;
    bit<32> epoch;
}

/* a commit at the tail, to the control plane (the XDP node's craq_commits ring buffer) */
struct craq_commit_digest_t {
    bit<64> key_id;
    bit<64> version;
    bit<32> key_check;
    bit<32> epoch;
    bit<8> tombstone;
}

struct empty_t {}

parser NetCraqParser(packet_in pkt, out headers_t hdr, inout metadata_t meta,
                     in psa_ingress_parser_input_metadata_t istd, in empty_t resubmit_meta, in empty_t recirculate_meta) {
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.ether_type) {
            0x0800: parse_ipv4;
            0x86dd: parse_ipv6;
            default: accept;
        }
    }
    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        meta.family = 4;
        transition select(hdr.ipv4.ihl, hdr.ipv4.frag_offset, hdr.ipv4.protocol) {
            (5, 0, 17): parse_udp;
            default: accept;
        }
    }
    state parse_ipv6 {
        pkt.extract(hdr.ipv6);
        meta.family = 6;
        transition select(hdr.ipv6.next_hdr) {
            17: parse_udp;
            default: accept;
        }
    }
    state parse_udp {
        pkt.extract(hdr.udp);
        transition select(hdr.udp.dst_port) {
            CRAQ_PORT: parse_craq;
            default: accept;
        }
    }
    state parse_craq {
        pkt.extract(hdr.craq);
        meta.words = hdr.craq.value_len >> 2;
        transition select(hdr.craq.value_len[1:0], hdr.craq.value_len > CRAQ_P4_WORDS * 4) {
            (0, false): parse_value;
            default: accept;   /* ingress sends it to the CPU (VALUE_TOO_LARGE for the switch) */
        }
    }
    state parse_value {
        transition select(meta.words) {
            0: parse_trailer;
            default: parse_word;
        }
    }
    state parse_word {
        pkt.extract(hdr.value.next);
        meta.words = meta.words - 1;
        transition parse_value;
    }
    state parse_trailer {
        transition select(hdr.craq.flags & F_CLIENT) {
            F_CLIENT: extract_trailer;
            default: accept;
        }
    }
    state extract_trailer {
        pkt.extract(hdr.trailer);
        transition accept;
    }
}

/* One 32-bit register array per value word: NetCraqIngress.craq_value_w<k>. */
#define VALUE_REG(k) Register<bit<32>, bit<32>>(CRAQ_P4_KEYS * CRAQ_SLOTS) craq_value_w##k;
#define VALUE_STORE(k) if (hdr.value[k].isValid()) { craq_value_w##k.write(meta.slot, hdr.value[k].w); }
#define VALUE_LOAD(k) if (k < (bit<32>)(len >> 2)) { hdr.value[k].setValid(); hdr.value[k].w = craq_value_w##k.read(meta.slot); } else { hdr.value[k].setInvalid(); }
#define WORDS(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15) \
                 M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23) M(24) M(25) M(26) M(27) M(28) M(29) M(30) M(31)

control NetCraqIngress(inout headers_t hdr, inout metadata_t meta,
                       in psa_ingress_input_metadata_t istd, inout psa_ingress_output_metadata_t ostd) {
    /* --- state (the XDP node's craq_keys entries, split by field) --- */
    Register<bit<64>, bit<32>>(CRAQ_P4_KEYS) craq_clean_version;
    Register<bit<64>, bit<32>>(CRAQ_P4_KEYS) craq_last_version;
    Register<bit<64>, bit<32>>(CRAQ_P4_KEYS * CRAQ_SLOTS) craq_slot_version;
    Register<bit<16>, bit<32>>(CRAQ_P4_KEYS * CRAQ_SLOTS) craq_slot_len;
    Register<bit<8>, bit<32>>(CRAQ_P4_KEYS * CRAQ_SLOTS) craq_slot_flags;
    Register<bit<64>, bit<32>>(CRAQ_P4_KEYS * CRAQ_SLOTS) craq_slot_req_id;   /* the request that wrote the version */
    WORDS(VALUE_REG)
    /* at-most-once (the XDP node keeps a ring of its last CRAQ_REQ_RING requests per key,
       craq_key.reqs, which its head scans): a pipeline stage cannot scan a ring, so here a table
       direct-mapped by a hash of (req_id, key_id), a newer request whose hash collides replacing
       the record */
    Register<bit<128>, bit<32>>(CRAQ_P4_REQUESTS) craq_req_tag;       /* req_id ++ key_id */
    Register<bit<64>, bit<32>>(CRAQ_P4_REQUESTS) craq_req_version;
    Hash<bit<32>>(PSA_HashAlgorithm_t.CRC32) req_hash;
    /* --- counters: heat per key (the scheduler reads them), reasons, dirty-full --- */
    Counter<bit<64>, bit<32>>(CRAQ_P4_KEYS, PSA_CounterType_t.PACKETS) craq_key_reads;
    Counter<bit<64>, bit<32>>(CRAQ_P4_KEYS, PSA_CounterType_t.PACKETS) craq_key_writes;
    Counter<bit<64>, bit<32>>(CRAQ_P4_KEYS, PSA_CounterType_t.PACKETS) craq_key_dirty_full;
    Counter<bit<64>, bit<8>>(R_MAX, PSA_CounterType_t.PACKETS_AND_BYTES) craq_reasons;
    Digest<craq_commit_digest_t>() craq_commits;

    /* neighbours (craq_config.self/pred/succ/tail), set by the node agent */
    mac_addr_t self_mac; ipv4_addr_t self_ip4; ipv6_addr_t self_ip6;
    mac_addr_t pred_mac; ipv4_addr_t pred_ip4; ipv6_addr_t pred_ip6;
    mac_addr_t succ_mac; ipv4_addr_t succ_ip4; ipv6_addr_t succ_ip6;
    mac_addr_t tail_mac; ipv4_addr_t tail_ip4; ipv6_addr_t tail_ip6;
    PortId_t out_port;

    /* --- tables the control plane writes (P4Runtime names: NetCraqIngress.<name>) --- */
    action set_node(bit<1> head, bit<1> tail, bit<1> netchain, bit<32> epoch, PortId_t port) {
        meta.head = head; meta.tail = tail; meta.netchain = netchain; meta.epoch = epoch; out_port = port;
    }
    table craq_config {
        key = {}
        actions = { set_node; }
        default_action = set_node(0, 0, 0, 0, (PortId_t)0);
    }

    action set_peers(mac_addr_t smac, ipv4_addr_t s4, ipv6_addr_t s6, mac_addr_t pmac, ipv4_addr_t p4, ipv6_addr_t p6,
                     mac_addr_t nmac, ipv4_addr_t n4, ipv6_addr_t n6, mac_addr_t tmac, ipv4_addr_t t4, ipv6_addr_t t6) {
        self_mac = smac; self_ip4 = s4; self_ip6 = s6;
        pred_mac = pmac; pred_ip4 = p4; pred_ip6 = p6;
        succ_mac = nmac; succ_ip4 = n4; succ_ip6 = n6;
        tail_mac = tmac; tail_ip4 = t4; tail_ip6 = t6;
    }
    table craq_peers {
        key = {}
        actions = { set_peers; }
        default_action = set_peers(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    action set_key_index(bit<32> index) {
        meta.key_index = index;
        meta.placed = 1;
    }
    action key_not_placed() {
        meta.placed = 0;
    }
    /* key id + key check -> register index; a miss (or another key_check) goes to the CPU */
    table craq_keys {
        key = {
            hdr.craq.key_id: exact;
            hdr.craq.key_check: exact;
        }
        actions = { set_key_index; key_not_placed; }
        default_action = key_not_placed();
        size = CRAQ_P4_KEYS;
    }

    /* --- helpers --- */
    action pass_to_cpu(bit<8> reason) {
        meta.reason = reason;
        meta.to_cpu = 1;
    }
    action drop_reason(bit<8> reason) {
        meta.reason = reason;
        meta.drop = 1;
    }
    action to_sender() {   /* answer whoever sent the frame, from the address it used */
        mac_addr_t m = hdr.ethernet.dst_addr;
        hdr.ethernet.dst_addr = hdr.ethernet.src_addr;
        hdr.ethernet.src_addr = m;
        bit<16> p = hdr.udp.dst_port;
        hdr.udp.dst_port = hdr.udp.src_port;
        hdr.udp.src_port = p;
        if (meta.family == 4) {
            ipv4_addr_t a = hdr.ipv4.dst_addr;
            hdr.ipv4.dst_addr = hdr.ipv4.src_addr;
            hdr.ipv4.src_addr = a;
        } else {
            ipv6_addr_t a6 = hdr.ipv6.dst_addr;
            hdr.ipv6.dst_addr = hdr.ipv6.src_addr;
            hdr.ipv6.src_addr = a6;
        }
    }
    action from_self_to(mac_addr_t mac, ipv4_addr_t ip4, ipv6_addr_t ip6, bit<16> port) {
        hdr.ethernet.src_addr = self_mac;
        hdr.ethernet.dst_addr = mac;
        hdr.udp.src_port = CRAQ_PORT;
        hdr.udp.dst_port = port;
        hdr.ipv4.src_addr = self_ip4;
        hdr.ipv4.dst_addr = ip4;
        hdr.ipv6.src_addr = self_ip6;
        hdr.ipv6.dst_addr = ip6;
    }
    action to_client() {
        from_self_to(hdr.trailer.mac, hdr.trailer.addr[127:96], hdr.trailer.addr, hdr.trailer.port);
    }
    action add_trailer_of_sender() {
        hdr.trailer.setValid();
        hdr.trailer.family = meta.family;
        hdr.trailer.pad = 0;
        hdr.trailer.port = hdr.udp.src_port;
        hdr.trailer.addr = meta.family == 4 ? hdr.ipv4.src_addr ++ 96w0 : hdr.ipv6.src_addr;
        hdr.trailer.mac = hdr.ethernet.src_addr;
        hdr.trailer.pad2 = 0;
        hdr.craq.flags = F_CLIENT;
        hdr.craq.epoch = meta.epoch;
    }
    action reply_header(bit<8> status, bit<64> version, bit<8> flags) {
        hdr.craq.op = hdr.craq.op | OP_REPLY_BIT;
        hdr.craq.status = status;
        hdr.craq.flags = flags;
        hdr.craq.value_len = 0;
        hdr.craq.ver = version;
        hdr.trailer.setInvalid();
    }
    action slot_of(bit<64> v) {
        meta.slot = meta.key_index * CRAQ_SLOTS + (bit<32>)(v % CRAQ_SLOTS);
    }
    action request_index() {
        meta.req_index = req_hash.get_hash(16w0, { hdr.craq.req_id, hdr.craq.key_id }, (bit<32>)CRAQ_P4_REQUESTS);
    }
    /* records that this packet's request created version v (req_id 0: not recorded) */
    action remember_request(bit<64> v) {
        request_index();
        if (hdr.craq.req_id != 0) {
            craq_req_tag.write(meta.req_index, hdr.craq.req_id ++ hdr.craq.key_id);
            craq_req_version.write(meta.req_index, v);
        }
    }
    action store_value(bit<64> v, bit<8> flags) {
        slot_of(v);
        craq_slot_req_id.write(meta.slot, hdr.craq.req_id);
        remember_request(v);
        craq_slot_version.write(meta.slot, v);
        craq_slot_len.write(meta.slot, hdr.craq.value_len);
        craq_slot_flags.write(meta.slot, flags);
        WORDS(VALUE_STORE)
    }
    /* the READ_REPLY of version v (NOT_FOUND for none or a tombstone, RETRY when no longer kept) */
    action answer_read(bit<64> v, bit<8> flags) {
        slot_of(v);
        bit<64> sv = craq_slot_version.read(meta.slot);
        bit<8> sf = craq_slot_flags.read(meta.slot);
        bit<16> len = craq_slot_len.read(meta.slot);
        hdr.craq.op = OP_READ;
        if (v == 0 || sv != v || (sf & 1) == 0 || (sf & 2) != 0) {
            reply_header(v != 0 && (sv != v || (sf & 1) == 0) ? (bit<8>)ST_RETRY : (bit<8>)ST_NOT_FOUND, v, flags);
            len = 0;
        } else {
            reply_header(ST_OK, v, flags);
            hdr.craq.value_len = len;
        }
        WORDS(VALUE_LOAD)
    }

    /* the value words of the version in meta.slot into the packet (value_len set from the slot) */
    action load_value() {
        bit<16> len = craq_slot_len.read(meta.slot);
        hdr.craq.value_len = len;
        WORDS(VALUE_LOAD)
    }

    /* --- the actions of the reference model (bpf/craq/p4info.ts maps CRAQ_STAT names onto them) --- */
    action reply_read_clean() {            /* READ_CLEAN: a clean key, or any key at the tail */
        craq_key_reads.count(meta.key_index);
        to_sender();
        answer_read(meta.clean, meta.tail == 1 ? (bit<8>)F_FROM_TAIL : (bit<8>)0);
    }
    action send_version_query() {          /* READ_QUERY: a dirty key asks the tail */
        craq_key_reads.count(meta.key_index);
        add_trailer_of_sender();
        from_self_to(tail_mac, tail_ip4, tail_ip6, CRAQ_PORT);
        hdr.craq.op = OP_VERSION_QUERY;
        hdr.craq.ver = 0;
    }
    action forward_read() {                /* READ_FORWARD: NetChain, reads travel to the tail */
        craq_key_reads.count(meta.key_index);
        if (!hdr.trailer.isValid()) { add_trailer_of_sender(); }
        from_self_to(succ_mac, succ_ip4, succ_ip6, CRAQ_PORT);
    }
    action reply_read_version() {          /* READ_VREPLY: the tail's committed version */
        if (hdr.craq.ver <= meta.last && hdr.craq.ver > meta.clean) {
            craq_clean_version.write(meta.key_index, hdr.craq.ver);   /* committed: clean here too */
        }
        to_client();
        answer_read(hdr.craq.ver, F_FROM_TAIL);
    }
    action head_assign_and_propagate() {   /* WRITE: version := last + 1, stored dirty, PROPAGATE */
        bit<1> tomb = hdr.craq.op == OP_DELETE ? 1w1 : 1w0;
        meta.v = meta.last + 1;
        craq_last_version.write(meta.key_index, meta.v);
        if (meta.netchain == 1) { craq_clean_version.write(meta.key_index, meta.v); }   /* NetChain: applied as current */
        store_value(meta.v, tomb == 1 ? (bit<8>)3 : (bit<8>)1);
        craq_key_writes.count(meta.key_index);
        add_trailer_of_sender();
        hdr.craq.op = OP_PROPAGATE;
        hdr.craq.flags = tomb == 1 ? (bit<8>)(F_CLIENT | F_TOMBSTONE) : (bit<8>)F_CLIENT;
        hdr.craq.ver = meta.v;
        from_self_to(succ_mac, succ_ip4, succ_ip6, CRAQ_PORT);
    }
    action reply_not_placed() {            /* NOT_PLACED: a client's request of a key not here */
        to_sender();
        reply_header(ST_NOT_PLACED, 0, 0);
        hdr.value.pop_front(CRAQ_P4_WORDS);
    }
    action reply_duplicate() {             /* DUPLICATE: the request made version meta.done already */
        to_sender();
        if (meta.done <= meta.clean) { reply_header(ST_OK, meta.done, F_FROM_TAIL); }
        else { reply_header(ST_RETRY, 0, 0); }
        hdr.value.pop_front(CRAQ_P4_WORDS);
    }
    action reply_not_head() {              /* NOT_HEAD */
        to_sender();
        reply_header(ST_NOT_HEAD, 0, 0);
        hdr.value.pop_front(CRAQ_P4_WORDS);
    }
    action reply_retry() {                 /* RETRY: CRAQ_MAX_DIRTY versions unacknowledged */
        craq_key_dirty_full.count(meta.key_index);
        to_sender();
        reply_header(ST_RETRY, 0, 0);
        hdr.value.pop_front(CRAQ_P4_WORDS);
    }
    action store_and_propagate() {         /* PROPAGATE: stored dirty (NetChain: as current), forwarded */
        store_value(hdr.craq.ver, (hdr.craq.flags & F_TOMBSTONE) != 0 ? (bit<8>)3 : (bit<8>)1);
        craq_last_version.write(meta.key_index, meta.last > hdr.craq.ver ? meta.last : hdr.craq.ver);
        if (meta.netchain == 1) { craq_clean_version.write(meta.key_index, meta.clean > hdr.craq.ver ? meta.clean : hdr.craq.ver); }
        craq_key_writes.count(meta.key_index);
        from_self_to(succ_mac, succ_ip4, succ_ip6, CRAQ_PORT);
    }
    action tail_commit_and_ack() {         /* COMMIT: the tail commits, reports it, ACKs upstream */
        store_value(hdr.craq.ver, (hdr.craq.flags & F_TOMBSTONE) != 0 ? (bit<8>)3 : (bit<8>)1);
        craq_last_version.write(meta.key_index, meta.last > hdr.craq.ver ? meta.last : hdr.craq.ver);
        craq_clean_version.write(meta.key_index, meta.clean > hdr.craq.ver ? meta.clean : hdr.craq.ver);
        craq_key_writes.count(meta.key_index);
        craq_commits.pack({ hdr.craq.key_id, hdr.craq.ver, hdr.craq.key_check, meta.epoch, (bit<8>)(hdr.craq.flags & F_TOMBSTONE) >> 2 });
        hdr.craq.op = OP_ACK;
        hdr.craq.value_len = 0;
        hdr.value.pop_front(CRAQ_P4_WORDS);
        from_self_to(pred_mac, pred_ip4, pred_ip6, CRAQ_PORT);
    }
    action tail_commit_and_reply() {       /* COMMIT, NetChain: the tail commits, reports it, answers the writer */
        store_value(hdr.craq.ver, (hdr.craq.flags & F_TOMBSTONE) != 0 ? (bit<8>)3 : (bit<8>)1);
        craq_last_version.write(meta.key_index, meta.last > hdr.craq.ver ? meta.last : hdr.craq.ver);
        craq_clean_version.write(meta.key_index, meta.clean > hdr.craq.ver ? meta.clean : hdr.craq.ver);
        craq_key_writes.count(meta.key_index);
        craq_commits.pack({ hdr.craq.key_id, hdr.craq.ver, hdr.craq.key_check, meta.epoch, (bit<8>)(hdr.craq.flags & F_TOMBSTONE) >> 2 });
        to_client();
        hdr.craq.op = (hdr.craq.flags & F_TOMBSTONE) != 0 ? (bit<8>)OP_DELETE : (bit<8>)OP_WRITE;
        reply_header(ST_OK, hdr.craq.ver, F_FROM_TAIL);
        hdr.value.pop_front(CRAQ_P4_WORDS);
    }
    action head_resend_duplicate() {       /* DUPLICATE, NetChain head: the version re-sent down the chain (RETRY when no longer kept) */
        slot_of(meta.done);
        bit<64> sv = craq_slot_version.read(meta.slot);
        bit<8> sf = craq_slot_flags.read(meta.slot);
        if (sv != meta.done || (sf & 1) == 0) {
            to_sender();
            reply_header(ST_RETRY, 0, 0);
            hdr.value.pop_front(CRAQ_P4_WORDS);
        } else {
            add_trailer_of_sender();
            hdr.craq.op = OP_PROPAGATE;
            hdr.craq.flags = (sf & 2) != 0 ? (bit<8>)(F_CLIENT | F_TOMBSTONE) : (bit<8>)F_CLIENT;
            hdr.craq.ver = meta.done;
            load_value();
            from_self_to(succ_mac, succ_ip4, succ_ip6, CRAQ_PORT);
        }
    }
    action pass_duplicate() {              /* DUPLICATE, NetChain middle: a version it holds passed on with its value */
        load_value();
        from_self_to(succ_mac, succ_ip4, succ_ip6, CRAQ_PORT);
    }
    action tail_reply_duplicate() {        /* DUPLICATE, NetChain tail: a version it committed (or superseded) answered OK */
        to_client();
        hdr.craq.op = (hdr.craq.flags & F_TOMBSTONE) != 0 ? (bit<8>)OP_DELETE : (bit<8>)OP_WRITE;
        reply_header(ST_OK, hdr.craq.ver, F_FROM_TAIL);
        hdr.value.pop_front(CRAQ_P4_WORDS);
    }
    action apply_ack_and_forward() {       /* ACK: the version is clean, passed up */
        craq_clean_version.write(meta.key_index, meta.clean > hdr.craq.ver ? meta.clean : hdr.craq.ver);
        from_self_to(pred_mac, pred_ip4, pred_ip6, CRAQ_PORT);
    }
    action head_reply_write() {            /* WRITE_REPLY: the head answers the writer on the ACK */
        craq_clean_version.write(meta.key_index, meta.clean > hdr.craq.ver ? meta.clean : hdr.craq.ver);
        to_client();
        hdr.craq.op = (hdr.craq.flags & F_TOMBSTONE) != 0 ? (bit<8>)OP_DELETE : (bit<8>)OP_WRITE;
        reply_header(ST_OK, hdr.craq.ver, F_FROM_TAIL);
    }
    action tail_version_reply() {          /* VQUERY: the tail answers with its committed version */
        slot_of(meta.clean);
        bit<8> sf = craq_slot_flags.read(meta.slot);
        bit<64> sv = craq_slot_version.read(meta.slot);
        hdr.craq.op = OP_VERSION_REPLY;
        hdr.craq.flags = sv == meta.clean && (sf & 2) != 0 ? (bit<8>)(F_CLIENT | F_TOMBSTONE) : (bit<8>)F_CLIENT;
        hdr.craq.ver = meta.clean;
        to_sender();
        hdr.ethernet.src_addr = self_mac;
        hdr.udp.src_port = CRAQ_PORT;
    }

    apply {
        meta.reason = 0;
        meta.to_cpu = 0;
        meta.drop = 0;
        if (!hdr.craq.isValid()) {
            return;     /* not ours: forwarded as the rest of the pipeline says (not shown) */
        }
        craq_config.apply();
        craq_peers.apply();
        bit<8> op = hdr.craq.op;
        if (hdr.craq.magic != CRAQ_MAGIC || hdr.craq.version != 1 || (hdr.craq.flags & 0xf8) != 0) {
            drop_reason(R_BAD_HEADER);
        } else if (op >= 0x81 && op <= 0x83) {
            pass_to_cpu(R_REPLY);
        } else if (op == 0 || (op > 7 && op < 0x81) || op > 0x83) {
            drop_reason(R_UNKNOWN_OP);
        } else if (hdr.craq.status != 0) {
            drop_reason(R_BAD_HEADER);
        } else if (hdr.craq.value_len > CRAQ_P4_WORDS * 4 || hdr.craq.value_len[1:0] != 0) {
            pass_to_cpu(R_VALUE_TOO_LARGE);    /* legal on the wire, too long for the switch */
        } else if ((op >= OP_PROPAGATE) != hdr.trailer.isValid() && !(op == OP_READ && hdr.trailer.isValid())) {
            drop_reason(R_BAD_HEADER);
        } else if (craq_keys.apply().hit == false) {
            if (op <= OP_DELETE && !hdr.trailer.isValid()) { reply_not_placed(); }
            else { pass_to_cpu(R_NOT_PLACED); }
        } else if (hdr.trailer.isValid() && hdr.craq.epoch != meta.epoch) {
            drop_reason(R_WRONG_EPOCH);
        } else {
            bit<128> src = meta.family == 4 ? hdr.ipv4.src_addr ++ 96w0 : hdr.ipv6.src_addr;
            bit<128> pred = meta.family == 4 ? pred_ip4 ++ 96w0 : pred_ip6;
            bit<128> succ = meta.family == 4 ? succ_ip4 ++ 96w0 : succ_ip6;
            bit<128> tail = meta.family == 4 ? tail_ip4 ++ 96w0 : tail_ip6;
            meta.clean = craq_clean_version.read(meta.key_index);
            meta.last = craq_last_version.read(meta.key_index);
            if (hdr.trailer.isValid() && (((op == OP_PROPAGATE || op == OP_READ) && (meta.head == 1 || src != pred)) ||
                                          (op == OP_ACK && (meta.tail == 1 || src != succ)) ||
                                          (op == OP_VERSION_REPLY && src != tail))) {
                drop_reason(R_FORGED);
            } else if (op == OP_READ) {
                if (hdr.trailer.isValid()) {
                    if (meta.tail == 1) { to_client(); hdr.trailer.setInvalid(); answer_read(meta.clean, F_FROM_TAIL); craq_key_reads.count(meta.key_index); }
                    else { forward_read(); }
                } else if (meta.tail == 0 && meta.netchain == 1) {
                    forward_read();
                } else if (meta.tail == 1 || meta.last <= meta.clean) {
                    reply_read_clean();
                } else {
                    send_version_query();
                }
            } else if (op == OP_WRITE || op == OP_DELETE) {
                request_index();
                meta.done = 0;
                if (hdr.craq.req_id != 0 && craq_req_tag.read(meta.req_index) == hdr.craq.req_id ++ hdr.craq.key_id) {
                    meta.done = craq_req_version.read(meta.req_index);
                }
                if (meta.head == 0) { reply_not_head(); }
                else if (meta.done != 0 && meta.netchain == 1) { head_resend_duplicate(); }
                else if (meta.done != 0) { reply_duplicate(); }
                else if (meta.netchain == 0 && meta.last - meta.clean >= CRAQ_MAX_DIRTY) { reply_retry(); }
                else { head_assign_and_propagate(); }
                /* a chain of one (head and tail) commits at once in the XDP node; on a switch
                   the chain has at least two nodes (the control plane refuses one) */
            } else if (op == OP_PROPAGATE) {
                slot_of(hdr.craq.ver);
                if (meta.netchain == 1 && hdr.craq.ver <= meta.clean) {
                    /* applied here already (a re-sent retry) or superseded by a newer version */
                    if (meta.tail == 1) { tail_reply_duplicate(); }
                    else if (craq_slot_version.read(meta.slot) == hdr.craq.ver && (craq_slot_flags.read(meta.slot) & 1) != 0) { pass_duplicate(); }
                    else { drop_reason(R_STALE); }
                }
                else if (hdr.craq.ver <= meta.clean) { drop_reason(R_STALE); }
                else if (meta.netchain == 0 && hdr.craq.ver - meta.clean > CRAQ_MAX_DIRTY) { craq_key_dirty_full.count(meta.key_index); drop_reason(R_DIRTY_FULL); }
                else if (meta.tail == 1 && meta.netchain == 1) { tail_commit_and_reply(); }
                else if (meta.tail == 1) { tail_commit_and_ack(); }
                else { store_and_propagate(); }
            } else if (op == OP_ACK) {
                if (hdr.craq.ver > meta.last) { drop_reason(R_STALE); }
                else if (meta.head == 1) { head_reply_write(); }
                else { apply_ack_and_forward(); }
            } else if (op == OP_VERSION_QUERY) {
                if (meta.tail == 0) { drop_reason(R_NOT_TAIL); }
                else { tail_version_reply(); }
            } else if (op == OP_VERSION_REPLY) {
                reply_read_version();
            }
        }
        if (meta.reason != 0) {
            craq_reasons.count(meta.reason);
        }
        if (meta.drop == 1) {
            ingress_drop(ostd);
        } else if (meta.to_cpu == 1) {
            send_to_port(ostd, PSA_PORT_CPU);
        } else {
            send_to_port(ostd, out_port);   /* the chain's and the clients' port (one segment, as the XDP node's XDP_TX) */
        }
    }
}

control NetCraqIngressDeparser(packet_out pkt, out empty_t clone_i2e_meta, out empty_t resubmit_meta, out empty_t normal_meta,
                               inout headers_t hdr, in metadata_t meta, in psa_ingress_output_metadata_t istd) {
    InternetChecksum() ip_csum;
    InternetChecksum() udp_csum;
    apply {
        /* lengths follow the message; IPv4 and UDP checksums are recomputed in full */
        bit<16> msg_len = 40 + hdr.craq.value_len + (hdr.trailer.isValid() ? (bit<16>)(28 + (4 - (hdr.craq.value_len & 3)) % 4) : 16w0);
        hdr.udp.length = 8 + msg_len;
        hdr.udp.checksum = 0;
        if (hdr.ipv4.isValid()) {
            hdr.ipv4.total_len = 20 + hdr.udp.length;
            hdr.ipv4.identification = 0;
            hdr.ipv4.flags = 2;
            hdr.ipv4.ttl = 64;
            hdr.ipv4.hdr_checksum = 0;
            ip_csum.clear();
            ip_csum.add({ hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.tos, hdr.ipv4.total_len, hdr.ipv4.identification,
                          hdr.ipv4.flags, hdr.ipv4.frag_offset, hdr.ipv4.ttl, hdr.ipv4.protocol, hdr.ipv4.src_addr, hdr.ipv4.dst_addr });
            hdr.ipv4.hdr_checksum = ip_csum.get();
            udp_csum.add({ hdr.ipv4.src_addr, hdr.ipv4.dst_addr, 8w0, 8w17, hdr.udp.length });
        } else {
            hdr.ipv6.payload_len = hdr.udp.length;
            hdr.ipv6.hop_limit = 64;
            udp_csum.add({ hdr.ipv6.src_addr, hdr.ipv6.dst_addr, 16w0, hdr.udp.length, 24w0, 8w17 });
        }
        udp_csum.add({ hdr.udp.src_port, hdr.udp.dst_port, hdr.udp.length, hdr.craq });
        /* value words and trailer: added in the target's full-packet checksum unit (PSA leaves
           header-stack checksums to the target; see p4/README.md) */
        hdr.udp.checksum = udp_csum.get();
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.ipv4);
        pkt.emit(hdr.ipv6);
        pkt.emit(hdr.udp);
        pkt.emit(hdr.craq);
        pkt.emit(hdr.value);
        pkt.emit(hdr.trailer);
    }
}

parser NetCraqEgressParser(packet_in pkt, out headers_t hdr, inout metadata_t meta, in psa_egress_parser_input_metadata_t istd,
                           in empty_t normal_meta, in empty_t clone_i2e_meta, in empty_t clone_e2e_meta) {
    state start { transition accept; }
}
control NetCraqEgress(inout headers_t hdr, inout metadata_t meta, in psa_egress_input_metadata_t istd, inout psa_egress_output_metadata_t ostd) {
    apply { }
}
control NetCraqEgressDeparser(packet_out pkt, out empty_t clone_e2e_meta, out empty_t recirculate_meta, inout headers_t hdr,
                              in metadata_t meta, in psa_egress_output_metadata_t istd, in psa_egress_deparser_input_metadata_t edstd) {
    apply { }
}

IngressPipeline(NetCraqParser(), NetCraqIngress(), NetCraqIngressDeparser()) ip;
EgressPipeline(NetCraqEgressParser(), NetCraqEgress(), NetCraqEgressDeparser()) ep;
PSA_Switch(ip, PacketReplicationEngine(), ep, BufferingQueueingEngine()) main;
