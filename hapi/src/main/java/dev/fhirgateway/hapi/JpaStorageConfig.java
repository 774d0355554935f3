package dev.fhirgateway.hapi;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import jakarta.persistence.EntityManagerFactory;
import javax.sql.DataSource;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.orm.jpa.JpaProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.transaction.annotation.EnableTransactionManagement;

/**
 * HAPI's JPA storage engine for R4 on the configured database, with the storage rules of
 * {@code hapi.fhir}: {@link HapiJpaConfig} and {@link JpaR4Config}, plus the parts they expect
 * their host to bring: the batch job runner of {@link JpaBatch2Config} with HAPI's standard jobs
 * of {@link Batch2JobsConfig} (reindexing, delete-expunge, terminology work: the DAOs submit
 * them), the in-memory message broker of {@link SubscriptionChannelConfig} that hands those jobs
 * their work, and the thread pools of {@link ThreadPoolFactoryConfig} that batch bundles run on.
 */
@Configuration
@EnableTransactionManagement
@Import({
	HapiJpaConfig.class,
	JpaR4Config.class,
	JpaBatch2Config.class,
	Batch2JobsConfig.class,
	SubscriptionChannelConfig.class,
	ThreadPoolFactoryConfig.class
})
public class JpaStorageConfig {

	/** The {@code hapi.fhir} rules, applied the way the hapiproject/hapi image applies them. */
	@Bean
	public JpaStorageSettings jpaStorageSettings(HapiFhirProperties properties) {
		JpaStorageSettings settings = new JpaStorageSettings();
		settings.setResourceClientIdStrategy(properties.clientIdStrategy());
		settings.setAllowMultipleDelete(properties.allowMultipleDelete());
		settings.setEnforceReferentialIntegrityOnWrite(properties.enforceReferentialIntegrityOnWrite());
		settings.setEnforceReferentialIntegrityOnDelete(properties.enforceReferentialIntegrityOnDelete());
		settings.setAllowExternalReferences(properties.allowExternalReferences());
		settings.setAllowContainsSearches(properties.allowContainsSearches());
		settings.setFetchSizeDefaultMaximum(properties.maxPageSize());
		settings.setReuseCachedSearchResultsForMillis(properties.searchResultReuseMillis());
		settings.setExpungeEnabled(properties.expungeEnabled());
		return settings;
	}

	/** One unpartitioned repository, as in the image when no partitioning is configured. */
	@Bean
	public PartitionSettings partitionSettings() {
		return new PartitionSettings();
	}

	/** No subscription channel is enabled, as in the image by default. */
	@Bean
	public SubscriptionSettings subscriptionSettings() {
		return new SubscriptionSettings();
	}

	/** HAPI's entity manager on Spring Boot's pool, with the {@code spring.jpa.properties} Hibernate settings. */
	@Bean
	@Primary
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			ConfigurableListableBeanFactory beanFactory,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings,
			DataSource dataSource,
			JpaProperties jpaProperties) {
		LocalContainerEntityManagerFactoryBean factory =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		factory.setPersistenceUnitName("HAPI_PU");
		factory.setDataSource(dataSource);
		factory.getJpaPropertyMap().putAll(jpaProperties.getProperties());
		return factory;
	}

	@Bean
	@Primary
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		return new JpaTransactionManager(entityManagerFactory);
	}
}
