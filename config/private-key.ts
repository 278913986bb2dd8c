// Private-key text: what the config check, the problem formatter, the plan manifest and the
// ssh-key-secret policy look for, so a key pasted into the wrong field is refused everywhere and
// never echoed back (a refusal that prints the key has already leaked it: into CI logs and the
// pull-request comment the preview workflow posts).

/** A PEM private-key header: "-----BEGIN OPENSSH PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----"… */
export const PRIVATE_KEY_HEADER = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;

/** What stands in for key text wherever a value would be shown. */
export const PRIVATE_KEY_REDACTED = "[private key text, not shown]";

/**
 * True for any text that holds "PRIVATE KEY": wider than the PEM header on purpose (a key cut
 * in half, a header with one dash lost), since a false alarm only hides a value from a message.
 */
export function holdsPrivateKey(text: string): boolean {
    return /PRIVATE KEY/.test(text);
}

/** The text with everything that may be key material replaced: from the first line naming a private key to its END line (or the end). */
export function redactPrivateKeys(text: string): string {
    if (!holdsPrivateKey(text)) return text;
    return text.replace(/(?:-+BEGIN [^\n"\\]*?)?PRIVATE KEY[\s\S]*?(?:-+END [^\n"\\]*?PRIVATE KEY-*|$)/g, PRIVATE_KEY_REDACTED);
}
