// The app's commands and events: the only way the web view reaches the core.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
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
}

export interface Member {
  identity: string;
  name: string;
  role: string;
  devices: string[];
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

/** What happened, as the core says it (one key per kind). */
export type ProfileEvent = Record<string, Record<string, unknown>>;

export const api = {
  appState: () => invoke<{ has_profile: boolean; unlocked: boolean }>("app_state"),
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
  closeFeed: (subscription: number) => invoke<void>("close_feed", { subscription }),
  loadMore: (subscription: number, count: number) => invoke<boolean>("load_more", { subscription, count }),
  post: (space: string, text: string) => invoke<string>("post", { space, text }),
  comment: (space: string, parent: string, text: string) => invoke<string>("comment", { space, parent, text }),
  react: (space: string, item: string, reaction: string, on: boolean) =>
    invoke<void>("react", { space, item, reaction, on }),
};

export function onProfileEvent(handler: (event: ProfileEvent) => void): Promise<UnlistenFn> {
  return listen<ProfileEvent>("profile-event", (e) => handler(e.payload));
}

export function onSpacesDiff(handler: (diffs: Diff<Space>[]) => void): Promise<UnlistenFn> {
  return listen<Diff<Space>[]>("spaces-diff", (e) => handler(e.payload));
}

export function onFeedDiff(handler: (subscription: number, diffs: Diff<FeedItem>[]) => void): Promise<UnlistenFn> {
  return listen<{ subscription: number; diffs: Diff<FeedItem>[] }>("feed-diff", (e) =>
    handler(e.payload.subscription, e.payload.diffs),
  );
}
