/* SPDX-FileCopyrightText: 2026 Sluice developers */
/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `sluice-rx verify-audit FILE... [--sender PUBFILE]... [--files DIR] [--head HEADFILE]`: re-checks audit logs
 * (rx/audit.h) offline, the files given in the order they were written (the rotated ones
 * first). Every line must be a JSON object whose "seq" is one more than the line before and
 * whose "prev" is the SHA-256 of the line before; the first line of the first file starts the
 * chain (seq 1 with 64 zeros, or a later seq, said on stdout). With --sender, each line's
 * "sender" fingerprint must be one of these keys', and each delivered, renamed and duplicate
 * line must carry its signed manifest ("manifest"), which must verify with one of them and
 * agree with the line's spool, path, size, session, object, content_hash, symbol_size and
 * block_max. The manifest is parsed from the log: untrusted bytes (manifest_verify). Each
 * "events" line's signed batch record and the chains of event batches are checked as
 * rx/verify_events.h says. With --files, the file of each delivered and
 * renamed line is re-hashed under DIR/<spool>/<stored_as or path> (content_hash, over the FEC
 * layout the line names) and each missing or changed one is named.
 * With --sender, every verified manifest (also those of lost and rejected lines) takes its place
 * in its spool's chain (common/chain.h, per sender key and spool); after the last line each
 * chain must be whole: every seq from the spool's first in the log (or 1) to its last present,
 * each naming the one below by hash. The first manifest, in log order, that breaks it is named
 * (FILE:LINE: spool S: chain break: ...): a seq missing (lost, or its line removed) or a
 * predecessor that is not the one in the log (injected, forked).
 * With --head, a copy of the chain head kept where the receiver cannot write ("SEQ HASH", as
 * in STATE/audit-head or the daemon's "chain head" log line), the line of that seq must be in
 * the files and hash to it: a tail removed or rewritten is named.
 * Exit 0 (all holds), 1 (the first break, or files missing or changed, on stderr as FILE:LINE:
 * what), 2 (usage, an unreadable key).
 */
#ifndef SLUICE_RX_VERIFY_AUDIT_H
#define SLUICE_RX_VERIFY_AUDIT_H

/* argv[0] is "verify-audit". */
int verify_audit_main(int argc, char **argv);

#endif
