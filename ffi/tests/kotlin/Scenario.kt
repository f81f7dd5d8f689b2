// The life of a space through the Kotlin bindings on the JVM (JNA), against the real
// relay binary: two profiles create a space, post, comment, share a file, and one
// removes the other. Each step is checked; a failed check ends the program with a
// non-zero status. Run by ffi/tests/kotlin/run.sh.

import java.io.File
import java.nio.file.Files
import java.security.MessageDigest
import java.util.Collections
import java.util.concurrent.TimeUnit
import kotlin.random.Random
import kotlinx.coroutines.runBlocking
import uniffi.huisclos.*

const val PASSPHRASE = "correct horse battery staple"

fun check(condition: Boolean, what: String) {
    if (!condition) throw AssertionError("failed: $what")
    println("ok: $what")
}

class Relay(private val binary: String, private val dataDir: File) {
    private val process: Process
    val firstInvitation: String

    init {
        val builder = ProcessBuilder(binary, "--data-dir", dataDir.path)
        builder.environment().putAll(
            mapOf(
                "HUISCLOS_RELAY_QUIC_LISTEN" to "127.0.0.1:0",
                "HUISCLOS_RELAY_TCP_LISTEN" to "127.0.0.1:0",
                "HUISCLOS_RELAY_METRICS_LISTEN" to "off",
                "RUST_LOG" to "warn",
            )
        )
        builder.redirectError(ProcessBuilder.Redirect.INHERIT)
        process = builder.start()
        val lines = process.inputStream.bufferedReader()
        var invitation: String? = null
        while (true) {
            val line = lines.readLine() ?: break
            if (line.startsWith("huisclos-relay: invitation ")) invitation = line.removePrefix("huisclos-relay: invitation ").trim()
            if (line.startsWith("huisclos-relay: ready")) break
        }
        firstInvitation = invitation ?: throw AssertionError("the relay printed no invitation")
        Thread { lines.readText() }.apply { isDaemon = true }.start()
    }

    fun invite(): String {
        val admin = ProcessBuilder(binary, "--data-dir", dataDir.path, "admin", "invite", "--valid-hours", "1").start()
        val out = admin.inputStream.bufferedReader().readText().trim()
        check(admin.waitFor(30, TimeUnit.SECONDS) && admin.exitValue() == 0, "the relay issued an invitation")
        return out
    }

    fun stop() {
        process.destroyForcibly().waitFor()
    }
}

class Recorder : ProfileListener {
    val events: MutableList<ProfileEvent> = Collections.synchronizedList(mutableListOf())
    override fun onEvent(event: ProfileEvent) {
        events.add(event)
    }
    inline fun <reified T : ProfileEvent> of(): List<T> = synchronized(events) { events.filterIsInstance<T>() }
}

class MemoryKeystore : Keystore {
    val keys = mutableMapOf<String, ByteArray>()
    override fun storeKey(name: String, key: ByteArray) {
        keys[name] = key.copyOf()
    }
    override fun loadKey(name: String): ByteArray =
        keys[name] ?: throw HuisClosException.Keystore("no key under that name")
    override fun deleteKey(name: String) {
        keys.remove(name)
    }
}

/// An app's array for one observed feed, rebuilt from the diffs it hears, and never
/// asked for whole.
class FeedRows : FeedListener {
    val rows: MutableList<FeedItem> = mutableListOf()
    val heard: MutableList<FeedDiff> = mutableListOf()
    @Synchronized
    override fun onDiffs(diffs: List<FeedDiff>) {
        for (diff in diffs) {
            heard.add(diff)
            when (diff) {
                is FeedDiff.Append -> rows.addAll(diff.values)
                is FeedDiff.Insert -> rows.add(diff.index.toInt(), diff.value)
                is FeedDiff.Set -> rows[diff.index.toInt()] = diff.value
                is FeedDiff.Remove -> rows.removeAt(diff.index.toInt())
                is FeedDiff.Reset -> { rows.clear(); rows.addAll(diff.values) }
            }
        }
    }
    @Synchronized
    fun take(): List<FeedDiff> = heard.toList().also { heard.clear() }
}

fun sync(profile: Profile): SyncOutcome = runBlocking { profile.sync() }

fun sha256(bytes: ByteArray): String = MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }

fun main(args: Array<String>) {
    val relayBinary = args.getOrNull(0) ?: "target/debug/huisclos-relay"
    val work = Files.createTempDirectory("huisclos-kotlin").toFile()
    val relay = Relay(relayBinary, File(work, "relay"))
    try {
        scenario(relay, work)
    } finally {
        relay.stop()
        work.deleteRecursively()
    }
    println("the Kotlin scenario passed")
}

fun scenario(relay: Relay, work: File) {
    val aliceEvents = Recorder()
    val alice = Profile.createWithPassphrase(File(work, "alice").path, "Alice", PASSPHRASE)
    alice.setListener(aliceEvents)
    alice.joinRelay(relay.firstInvitation)
    sync(alice)
    check(alice.whoami().account != null, "Alice opened her relay account")
    check(aliceEvents.of<ProfileEvent.AccountCreated>().size == 1, "Alice's listener heard the account created")

    val keystore = MemoryKeystore()
    val bobDir = File(work, "bob").path
    val bobEvents = Recorder()
    val bob = Profile.createWithKeystore(bobDir, "Bob", keystore)
    bob.setListener(bobEvents)
    check(keystore.keys.keys == setOf(bobDir), "Bob's storage key is held by the keystore")
    bob.joinRelay(relay.invite())
    sync(bob)
    check(bob.whoami().account != null, "Bob opened his relay account")

    val space = alice.createSpace("Case 207", "Detention of the Beirut journalists", Policy.CONFIDENTIAL, true)
    alice.space(space).members().invite(bob.contactCard(), Role.CONTRIBUTOR)
    sync(alice)
    sync(bob)
    check(bobEvents.of<ProfileEvent.Invited>().map { it.space to it.by } == listOf(space to "Alice"), "Bob was invited by Alice")
    bob.space(space).acceptInvitation()
    sync(bob)
    sync(alice)
    check(bob.spaces().single().let { it.id == space && it.myRole == Role.CONTRIBUTOR }, "Bob is a contributor of the space")
    check(alice.space(space).members().list().map { it.name }.sorted() == listOf("Alice", "Bob"), "Alice sees both members")
    val aliceId = alice.whoami().identity
    val bobId = bob.whoami().identity
    check(alice.contacts().safetyNumber(bobId) == bob.contacts().safetyNumber(aliceId), "both see the same safety number")

    val bobFeed = FeedRows()
    val bobFeedSubscription = bob.space(space).feed().subscribe(20u, bobFeed)
    check(bobFeed.take().let { it.size == 1 && it[0] is FeedDiff.Reset } && bobFeed.rows.isEmpty(), "Bob observes the empty feed")

    val post = alice.space(space).feed().post("The hearing moved to Thursday, 9:00.")
    sync(alice)
    check(aliceEvents.of<ProfileEvent.Delivered>().any { it.item == post }, "the post reached the relay")
    sync(bob)
    check(bob.space(space).feed().items().single().let { it.id == post && it.text == "The hearing moved to Thursday, 9:00." && it.authorName == "Alice" },
        "Bob reads Alice's post")
    check(bobEvents.of<ProfileEvent.NewContent>().any { it.item == post }, "Bob's listener heard the post")
    val comment = bob.space(space).feed().comment(post, "I will be there with the file.")
    bob.space(space).feed().react(post, "👍", true)
    sync(bob)
    sync(alice)
    val feed = alice.space(space).feed().items().associateBy { it.id }
    check(feed[comment]?.parent == post && feed[comment]?.authorName == "Bob", "Alice reads Bob's comment under her post")
    check(feed[post]?.reactions?.single()?.let { it.reaction == "👍" && it.by == listOf(bobId) } == true, "Alice sees Bob's reaction")

    alice.space(space).feed().edit(post, "The hearing moved to Thursday, 10:00.")
    sync(alice)
    sync(bob)
    val heard = bobFeed.take()
    // His own comment and reaction are also heard reaching the relay (no longer waiting).
    val kinds = heard.map { it::class.simpleName }
    check(kinds.size >= 4 && kinds.take(2) == listOf("Insert", "Insert") && kinds.drop(2).all { it == "Set" },
        "Bob heard the post and his comment as Inserts, his reaction, Alice's edit and his items sent as Sets: $kinds")
    check(bobFeed.rows.none { it.waiting }, "nothing of Bob's shows as waiting once sent")
    check(bobFeed.rows.map { it.id to it.text } == bob.space(space).feed().page(null, 50u).map { it.id to it.text },
        "the feed Bob rebuilt from diffs is the engine's")
    check(bobFeed.rows.first { it.id == post }.let { it.edited && it.text.endsWith("10:00.") }, "Bob's rows show the edit")
    bobFeedSubscription.stop()

    val data = Random(207).nextBytes(900_000)
    val source = File(work, "statement.pdf").apply { writeBytes(data) }
    val node = alice.space(space).library().putFile(null, "statement.pdf", null, source.path)
    val uploaded = sync(alice)
    check(uploaded.uploads == 0u, "the upload finished")
    check(aliceEvents.of<ProfileEvent.Transfer>().last { it.node == node }.let { it.finished && it.done == data.size.toULong() },
        "the upload reported its progress to the end")
    sync(bob)
    check(bob.space(space).library().nodes().single { it.id == node }.let { it.name == "statement.pdf" && it.length == data.size.toULong() },
        "Bob sees the file in the library")
    val dest = File(work, "downloaded.pdf")
    bob.space(space).library().getFile(node, null, dest.path)
    check(sync(bob).downloads == 0u, "the download finished")
    check(sha256(dest.readBytes()) == sha256(data), "the download is byte-identical")

    // A note both type into at once, as an editor reports edits: Kotlin's String.length
    // counts UTF-16 units, as the note's offsets do.
    val start = "# Thursday\n- judge: Haddad"
    val note = alice.space(space).library().createNote(null, "Hearing notes.md", start)
    sync(alice)
    sync(bob)
    val toldBefore = aliceEvents.of<ProfileEvent.NoteChanged>().count { it.note == note }
    alice.space(space).library().showInNote(note, 0u, 0u) // her editor has it open
    alice.space(space).library().editNote(note, listOf(NoteTextEdit(0u, 0u, "📌 ")))
    bob.space(space).library().editNote(note, listOf(NoteTextEdit(start.length.toUInt(), 0u, "\n- clerk: Nassar")))
    sync(alice)
    sync(bob)
    sync(alice)
    val merged = "📌 $start\n- clerk: Nassar"
    check(alice.space(space).library().readNote(note) == merged, "Alice's note holds both edits")
    check(bob.space(space).library().readNote(note) == merged, "Bob's note holds both edits")
    val noteTold = aliceEvents.of<ProfileEvent.NoteChanged>().filter { it.note == note }.drop(toldBefore)
    check(noteTold.isNotEmpty(), "Alice's listener heard Bob's edit")
    // Her editor applies the edits it is told (UTF-16 units, as Kotlin's String counts)
    // to what it showed, her own edit included, and shows the note as it is now.
    var shown = "📌 $start"
    for (event in noteTold) {
        for (edit in checkNotNull(event.edits) { "the note she shows comes with its edits" }) {
            val at = edit.at.toInt()
            shown = shown.substring(0, at) + edit.insert + shown.substring(at + edit.delete.toInt())
        }
    }
    check(shown == merged, "Alice's editor, applying the edits, shows the merged note: $shown")

    // Bob watches; Alice selects "Thursday": Bob's listener hears it, and he sees her
    // selection in his copy of the text (UTF-16 units, as Kotlin counts).
    val onlineBefore = bobEvents.of<ProfileEvent.SyncState>().count { it.online && it.transport != null }
    bob.startWatching()
    val watching = System.currentTimeMillis() + 30_000
    while (bobEvents.of<ProfileEvent.SyncState>().count { it.online && it.transport != null } <= onlineBefore &&
        System.currentTimeMillis() < watching
    ) {
        Thread.sleep(50)
    }
    val selected = merged.indexOf("Thursday")
    alice.space(space).library().showInNote(note, selected.toUInt(), (selected + 8).toUInt())
    sync(alice)
    val told = System.currentTimeMillis() + 30_000
    while (bobEvents.of<ProfileEvent.PresenceChanged>().none { it.note == note } && System.currentTimeMillis() < told) {
        Thread.sleep(50)
    }
    val peers = bob.space(space).library().notePresence(note)
    check(
        peers.size == 1 && peers[0].name == "Alice" && peers[0].anchor == selected.toUInt() &&
            peers[0].head == (selected + 8).toUInt(),
        "Bob sees Alice's selection: $peers",
    )
    println("ok: Bob, watching, sees Alice's selection in the note")
    val offlineBefore = bobEvents.of<ProfileEvent.SyncState>().count { !it.online }
    bob.stopWatching()
    val stopped = System.currentTimeMillis() + 30_000
    while (bobEvents.of<ProfileEvent.SyncState>().count { !it.online } <= offlineBefore &&
        System.currentTimeMillis() < stopped
    ) {
        Thread.sleep(50)
    }

    alice.space(space).members().remove(bobId)
    sync(alice)
    sync(bob)
    check(bobEvents.of<ProfileEvent.RemovedFromSpace>().any { it.space == space }, "Bob was told he was removed")
    check(bob.spaces().single().removed, "Bob's space shows him removed")
    val refused = try {
        bob.space(space).feed().post("still here?")
        false
    } catch (error: HuisClosException) {
        error.message?.isNotEmpty() == true
    }
    check(refused, "a removed member cannot post: a typed exception with a message")
    val invalid = try {
        alice.space("not-hex").feed().post("x")
        null
    } catch (error: HuisClosException.Invalid) {
        error
    }
    check(invalid != null, "a malformed id is a HuisClosException.Invalid")

    // The shared translations, as the Android app uses them.
    val arabic = Localizer("ar")
    check(arabic.isRightToLeft() && !Localizer("pt-BR").isRightToLeft(), "Arabic is laid out right to left")
    val forms = listOf(0uL, 1uL, 2uL, 3uL, 11uL, 100uL).map { n ->
        arabic.text("cli-word-devices", listOf(MessageArg.Number("count", n))).replace(n.toString(), "#")
    }.toSet()
    check(forms.size == 6, "Arabic counts take their six plural forms: $forms")
    check(setLanguage("fr") == "fr", "the reasons speak French")
    val notFound = try {
        alice.space("00".repeat(16)).feed().post("x")
        null
    } catch (error: HuisClosException.NotFound) {
        error
    }
    check(
        notFound != null && notFound.what == Missing.SPACE && notFound.reason.contains(Localizer("fr").missing(Missing.SPACE)) &&
            notFound.reason != Localizer("en").missing(Missing.SPACE),
        "a missing space is said in French, with the same typed reason: ${notFound?.reason}",
    )
    setLanguage("en")

    bob.lock()
    val reopened = Profile.openWithKeystore(bobDir, keystore)
    check(reopened.whoami().identity == bobId, "Bob's profile opens again with the keystore's key")
    reopened.wipe()
    check(!profileExists(bobDir) && keystore.keys.isEmpty(), "the panic wipe destroyed the profile and its key")
    alice.lock()
}
