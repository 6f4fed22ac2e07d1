package dev.postern.broker;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/** Keeps the package rules of DESIGN.md: features apart, Vault behind the store, one Jackson. */
@AnalyzeClasses(packages = "dev.postern.broker", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTests {

    @ArchTest
    static final ArchRule featurePackagesHaveNoCycles = slices().matching("dev.postern.broker.(*)..")
        .should()
        .beFreeOfCycles();

    @ArchTest
    static final ArchRule storeDependsOnNoFeature = noClasses().that()
        .resideInAPackage("..broker.store..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("..broker.apps..", "..broker.accounts..", "..broker.connect..", "..broker.providers..",
                "..broker.tokens..", "..broker.expiry..", "..broker.access..", "..broker.audit..", "..broker.web..");

    @ArchTest
    static final ArchRule onlyTheStoreTalksToVault = noClasses().that()
        .resideOutsideOfPackage("..broker.store..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("org.springframework.vault..");

    @ArchTest
    static final ArchRule onlyControllersAndWebUseWeb = noClasses().that()
        .resideOutsideOfPackage("..broker.web..")
        .and()
        .haveSimpleNameNotEndingWith("Controller")
        .and()
        .haveSimpleNameNotEndingWith("Filter")
        .and()
        .doNotHaveSimpleName("SecurityConfiguration")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("..broker.web..");

    @ArchTest
    static final ArchRule onlyTokenFeaturesUseProviders = noClasses().that()
        .resideOutsideOfPackages("..broker.tokens..", "..broker.providers..", "..broker.connect..",
                "..broker.apps..", "..broker.accounts..", "..broker.mailproxy..", "..broker.expiry..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("..broker.providers..");

    // Expiry reads Entra ID's own view of an app's credentials through Microsoft's room, and nothing
    // else of the providers: no token calls, no provider-specific code of its own.
    @ArchTest
    static final ArchRule expiryUsesOnlyGraphOfProviders = noClasses().that()
        .resideInAPackage("..broker.expiry..")
        .should()
        .dependOnClassesThat(JavaClass.Predicates.resideInAPackage("..broker.providers..")
            .and(DescribedPredicate.not(JavaClass.Predicates.simpleNameStartingWith("Graph")))
            .and(DescribedPredicate.not(JavaClass.Predicates.simpleName("MicrosoftTokenProvider")))
            .and(DescribedPredicate.not(JavaClass.Predicates.simpleName("ProviderClient"))));

    @ArchTest
    static final ArchRule onlyMicrosoftsRoomUsesMsal = noClasses().that()
        .resideOutsideOfPackages("..broker.providers.microsoft..", "..broker.outbound..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("com.microsoft.aad.msal4j..");

    @ArchTest
    static final ArchRule ourCodeUsesJacksonThree = noClasses().should()
        .dependOnClassesThat()
        .resideInAPackage("com.fasterxml.jackson.databind..");
}
