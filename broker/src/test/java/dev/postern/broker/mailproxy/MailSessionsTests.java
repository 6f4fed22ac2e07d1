package dev.postern.broker.mailproxy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MailSessionsTests {

    @Test
    void aMailboxAtItsLimitIsRefusedWhileOthersStillGetPlacesAndAClosedSessionFreesOne() {
        MailSessions sessions = new MailSessions(2, 10);
        MailSessions.Admission first = sessions.open("acc_a");
        MailSessions.Admission second = sessions.open("acc_a");
        MailSessions.Admission third = sessions.open("acc_a");
        assertThat(first.lease()).isNotNull();
        assertThat(second.lease()).isNotNull();
        assertThat(third.lease()).isNull();
        assertThat(third.refusal()).isEqualTo(MailSessions.Refusal.MAILBOX);
        assertThat(sessions.message(third.refusal())).contains("2 sessions");
        assertThat(sessions.open("acc_b").lease()).isNotNull();
        assertThat(sessions.count("acc_a")).isEqualTo(2);
        assertThat(sessions.total()).isEqualTo(3);

        first.lease().close();
        first.lease().close();
        assertThat(sessions.count("acc_a")).as("a lease closed twice gives its place back once").isEqualTo(1);
        assertThat(sessions.open("acc_a").lease()).isNotNull();
    }

    @Test
    void theProxyAtItsTotalLimitRefusesEveryMailboxUntilASessionEnds() {
        MailSessions sessions = new MailSessions(5, 2);
        MailSessions.Admission a = sessions.open("acc_a");
        sessions.open("acc_b");
        MailSessions.Admission refused = sessions.open("acc_c");
        assertThat(refused.refusal()).isEqualTo(MailSessions.Refusal.TOTAL);
        assertThat(sessions.message(refused.refusal())).contains("limit of 2 open sessions");
        assertThat(sessions.count("acc_c")).isZero();
        a.lease().close();
        assertThat(sessions.open("acc_c").lease()).isNotNull();
        assertThat(sessions.total()).isEqualTo(2);
    }

    @Test
    void racingLoginsOfOneMailboxGetExactlyItsLimitOfPlaces() throws Exception {
        MailSessions sessions = new MailSessions(3, 1000);
        CountDownLatch start = new CountDownLatch(1);
        ConcurrentLinkedQueue<MailSessions.Admission> admissions = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                }
                catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
                admissions.add(sessions.open("acc_race"));
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(admissions).filteredOn(a -> a.lease() != null).hasSize(3);
        assertThat(sessions.count("acc_race")).isEqualTo(3);
        assertThat(sessions.total()).isEqualTo(3);
    }
}
