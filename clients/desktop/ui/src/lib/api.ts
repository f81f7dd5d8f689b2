// The app's commands and events: the only way the web view reaches the core.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { TextEdit } from "./noteText";
import type { Diff } from "./lists";

export type Policy = "open" | "on_request" | "confidential";
export type RoleName = "reader" | "contributor" | "content_manager" | "space_manager";

export interface Space {
  id: string;
  name: string;
  description: string;
  policy: string;
  keeps_history: boolean;
  my_role: string;
  unread: number;
  removed: boolean;
  stalled: boolean;
  replaced_by: string | null;
  muted: boolean;
  invited: boolean;
  /** When its newest item was written (Unix seconds). */
  last_activity: number | null;
}

export interface Reaction {
  reaction: string;
  by: string[];
}

export interface FeedItem {
  id: string;
  author: string;
  author_name: string;
  created_at: number;
  parent: string | null;
  text: string;
  edited: boolean;
  deleted: boolean;
  reactions: Reaction[];
  position: number;
  moderated_by: string | null;
  /** Something this device wrote to it has not reached the relay yet. */
  waiting: boolean;
}

export interface Member {
  identity: string;
  name: string;
  role: string;
  devices: string[];
}

export interface JoinRequest {
  identity: string;
  name: string;
  note: string;
  asked_at: number;
  devices: number;
}

export type NodeKind = "Folder" | "File" | "Note";

export interface LibraryNode {
  id: string;
  kind: NodeKind;
  name: string;
  parent: string | null;
  trashed: boolean;
  length: number | null;
  versions: number;
  created_by: string;
}

export interface FileVersion {
  index: number;
  author: string;
  at: number;
  length: number;
}

export interface Device {
  id: string;
  name: string;
  created_at: number;
  this_device: boolean;
}

export interface Contact {
  account: string;
  identity: string;
  name: string;
  verified: boolean;
  changed_to: string | null;
}

/** A card as text and as a QR image (a `data:` URL). */
export interface Card {
  text: string;
  qr: string;
}

/** What a device waiting to be linked shows: its request (text and QR), and the code. */
export interface LinkShown {
  request: string;
  qr: string | null;
  code: string;
}

export interface Me {
  name: string;
  identity: string;
  device: string;
  account: string | null;
  holds_identity_key: boolean;
}

export interface PassphraseCheck {
  strength: number;
  min_strength: number;
  min_chars: number;
  acceptable: boolean;
  reason: string | null;
}

export interface SyncOutcome {
  transport: string | null;
  outbox: number;
  uploads: number;
  downloads: number;
}

/** An error from the core: its kind, and why in the person's language. */
export interface UiError {
  kind: string;
  reason: string;
}

export function errorText(error: unknown): string {
  if (error && typeof error === "object" && "reason" in error) return String((error as UiError).reason);
  return String(error);
}

/** Runs a command for a screen: "" when it succeeded, else why not, in the person's
 * language (what every screen shows in its error line). */
export async function attempt(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
    return "";
  } catch (e) {
    return errorText(e);
  }
}

/** What happened, as the core says it (one key per kind). */
export type ProfileEvent = Record<string, Record<string, unknown>>;

/** Another person's device in a note: where their selection is (UTF-16 units). */
export interface NotePeer {
  identity: string;
  name: string;
  anchor: number | null;
  head: number | null;
}

export const api = {
  appState: () =>
    invoke<{
      has_profile: boolean;
      unlocked: boolean;
      words_unchecked: boolean;
      linking: boolean;
      keychain: boolean;
      by_keychain: boolean;
    }>("app_state"),
  createProfileWithKeychain: (name: string) => invoke<void>("create_profile_with_keychain", { name }),
  unlockWithKeychain: () => invoke<void>("unlock_with_keychain"),
  startLink: (name: string, passphrase: string, offer: string) =>
    invoke<LinkShown>("start_link", { name, passphrase, offer }),
  waitingLink: () => invoke<LinkShown>("waiting_link"),
  /** Waits a while for the approval; true once linked (the profile is then open). */
  waitForLink: () => invoke<boolean>("wait_for_link"),
  /** Gives up the waiting link: its empty store is destroyed. */
  cancelLink: () => invoke<void>("cancel_link"),
  setNotifications: (mode: string) => invoke<void>("set_notifications", { mode }),
  showing: (space: string | null) => invoke<void>("showing", { space }),
  firstRecoveryWords: () => invoke<string[]>("first_recovery_words"),
  recoveryWords: (passphrase: string) => invoke<string[]>("recovery_words", { passphrase }),
  checkRecoveryWords: (answers: { position: number; word: string }[]) =>
    invoke<boolean>("check_recovery_words", { answers }),
  setDuressPassphrase: (current: string, duress: string, decoyName: string, invitation: string) =>
    invoke<void>("set_duress_passphrase", { current, duress, decoyName, invitation }),
  checkPassphrase: (passphrase: string) => invoke<PassphraseCheck>("check_passphrase", { passphrase }),
  suggestPassphrase: () => invoke<string>("suggest_passphrase"),
  setLanguage: (tag: string) => invoke<string>("set_language", { tag }),
  createProfile: (name: string, passphrase: string) => invoke<void>("create_profile", { name, passphrase }),
  unlock: (passphrase: string) => invoke<void>("unlock", { passphrase }),
  lock: () => invoke<void>("lock"),
  wipe: () => invoke<void>("wipe"),
  joinRelay: (invitation: string) => invoke<void>("join_relay", { invitation }),
  whoami: () => invoke<Me>("whoami"),
  contactCard: () => invoke<string>("contact_card"),
  sync: () => invoke<SyncOutcome>("sync"),
  createSpace: (name: string, description: string, policyName: Policy, keepHistory: boolean) =>
    invoke<string>("create_space", { name, description, policyName, keepHistory }),
  openSpaces: () => invoke<void>("open_spaces"),
  invitedBy: () => invoke<Record<string, string>>("invited_by"),
  acceptInvitation: (space: string) => invoke<void>("accept_invitation", { space }),
  markRead: (space: string) => invoke<void>("mark_read", { space }),
  members: (space: string) => invoke<Member[]>("members", { space }),
  invite: (space: string, card: string, roleName: RoleName) => invoke<void>("invite", { space, card, roleName }),
  openFeed: (space: string, pageSize: number) => invoke<number>("open_feed", { space, pageSize }),
  openFolder: (space: string, folder: string | null) => invoke<number>("open_folder", { space, folder }),
  openRequests: (space: string) => invoke<number>("open_requests", { space }),
  openMembers: (space: string) => invoke<number>("open_members", { space }),
  closeList: (subscription: number) => invoke<void>("close_list", { subscription }),
  loadMore: (subscription: number, count: number) => invoke<boolean>("load_more", { subscription, count }),
  post: (space: string, text: string) => invoke<string>("post", { space, text }),
  comment: (space: string, parent: string, text: string) => invoke<string>("comment", { space, parent, text }),
  react: (space: string, item: string, reaction: string, on: boolean) =>
    invoke<void>("react", { space, item, reaction, on }),
  edit: (space: string, item: string, text: string) => invoke<void>("edit", { space, item, text }),
  delete: (space: string, item: string) => invoke<void>("delete", { space, item }),
  setRole: (space: string, person: string, roleName: RoleName) => invoke<void>("set_role", { space, person, roleName }),
  removeMember: (space: string, person: string) => invoke<void>("remove_member", { space, person }),
  leave: (space: string) => invoke<void>("leave", { space }),
  approveRequest: (space: string, person: string, roleName: RoleName) =>
    invoke<void>("approve_request", { space, person, roleName }),
  declineRequest: (space: string, person: string) => invoke<void>("decline_request", { space, person }),
  requestToJoin: (card: string, note: string) => invoke<void>("request_to_join", { card, note }),
  spaceCard: (space: string) => invoke<Card>("space_card", { space }),
  contactCardQr: () => invoke<Card>("contact_card_qr"),
  library: (space: string) => invoke<LibraryNode[]>("library", { space }),
  versions: (space: string, file: string) => invoke<FileVersion[]>("versions", { space, file }),
  filePreview: (space: string, file: string) => invoke<string | null>("file_preview", { space, file }),
  createFolder: (space: string, parent: string | null, name: string) =>
    invoke<string>("create_folder", { space, parent, name }),
  createNote: (space: string, parent: string | null, name: string, text: string) =>
    invoke<string>("create_note", { space, parent, name, text }),
  readNote: (space: string, note: string) => invoke<string>("read_note", { space, note }),
  writeNote: (space: string, note: string, text: string) => invoke<void>("write_note", { space, note, text }),
  editNote: (space: string, note: string, edits: TextEdit[]) => invoke<void>("edit_note", { space, note, edits }),
  showInNote: (space: string, note: string | null, anchor: number | null, head: number | null) =>
    invoke<void>("show_in_note", { space, note, anchor, head }),
  notePresence: (space: string, note: string) => invoke<NotePeer[]>("note_presence", { space, note }),
  renderMarkdown: (text: string) => invoke<string>("render_markdown", { text }),
  renameNode: (space: string, node: string, name: string) => invoke<void>("rename_node", { space, node, name }),
  moveNode: (space: string, node: string, parent: string | null) => invoke<void>("move_node", { space, node, parent }),
  trashNode: (space: string, node: string) => invoke<void>("trash_node", { space, node }),
  restoreNode: (space: string, node: string) => invoke<void>("restore_node", { space, node }),
  /** Hands a file's bytes to the core, which seals them at once; returns the file's id. */
  /** The code this device shows `person` to scan, as a QR image (`data:` URL). */
  verificationQr: (person: string) => invoke<string>("verification_qr", { person }),
  /** Checks a picture of the code `person`'s device shows: a match marks them verified. */
  checkVerificationQr: async (person: string, image: File) =>
    invoke<"Verified" | "Mismatch">("check_verification_qr", new Uint8Array(await image.arrayBuffer()), {
      headers: { "x-person": person },
    }),
  /** The text of the QR code in an image file the person opened. */
  readQr: async (image: File) => invoke<string>("read_qr", new Uint8Array(await image.arrayBuffer())),
  /** Uploads a file; an image loses its metadata unless `keepMetadata`. */
  upload: async (
    space: string,
    parent: string | null,
    file: File,
    versionOf: string | null = null,
    keepMetadata = false,
  ) =>
    invoke<string>("upload", new Uint8Array(await file.arrayBuffer()), {
      headers: {
        "x-space": space,
        "x-name": encodeURIComponent(file.name),
        "x-parent": parent ?? "",
        "x-version-of": versionOf ?? "",
        "x-keep-metadata": keepMetadata ? "1" : "0",
      },
    }),
  /** Queues a download into the downloads folder; returns the name it is saved under. */
  download: (space: string, file: string, version: number | null = null) =>
    invoke<string>("download", { space, file, version }),
  devices: () => invoke<Device[]>("devices"),
  linkOffer: () => invoke<Card>("link_offer"),
  linkConfirmationCode: (request: string) => invoke<string>("link_confirmation_code", { request }),
  approveLink: (request: string) => invoke<Device>("approve_link", { request }),
  revokeDevice: (device: string) => invoke<void>("revoke_device", { device }),
  contacts: () => invoke<Contact[]>("contacts"),
  safetyNumber: (person: string) => invoke<string>("safety_number", { person }),
  markVerified: (person: string) => invoke<void>("mark_verified", { person }),
  acceptIdentityChange: (account: string) => invoke<Contact>("accept_identity_change", { account }),
};

/** The most bytes the window hands over in one upload (the core's command says the same). */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024;

export function onProfileEvent(handler: (event: ProfileEvent) => void): Promise<UnlistenFn> {
  return listen<ProfileEvent>("profile-event", (e) => handler(e.payload));
}

export function onSpacesDiff(handler: (diffs: Diff<Space>[]) => void): Promise<UnlistenFn> {
  return listen<Diff<Space>[]>("spaces-diff", (e) => handler(e.payload));
}

/** The diffs of one observed list (a feed, a folder, requests to join, members). */
export function onListDiff<T>(handler: (subscription: number, diffs: Diff<T>[]) => void): Promise<UnlistenFn> {
  return listen<{ subscription: number; diffs: Diff<T>[] }>("list-diff", (e) =>
    handler(e.payload.subscription, e.payload.diffs),
  );
}
