package netcds.hapi;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.binary.api.IBinaryStorageSvc;
import ca.uhn.fhir.jpa.binstore.MemoryBinaryStorageSvcImpl;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import jakarta.persistence.EntityManagerFactory;
import java.util.Properties;
import javax.sql.DataSource;
import org.apache.commons.dbcp2.BasicDataSource;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.transaction.annotation.EnableTransactionManagement;

/**
 * The Spring wiring HAPI's JPA server needs and does not provide itself: the database, the JPA
 * persistence unit and the storage settings. Everything else (DAOs, search, transactions,
 * paging, batch jobs and their in-process message channels) is HAPI's own configuration, imported
 * as it is.
 *
 * <p>The storage settings are those of HAPI's JPA starter, which the public sandbox runs:
 * client-assigned ids that are not purely numeric, referential integrity checked on write and on
 * delete, no external references, no placeholder targets, search results reused for 60 s.
 */
@Configuration
@EnableTransactionManagement
@Import({JpaR4Config.class, HapiJpaConfig.class, JpaBatch2Config.class, Batch2JobsConfig.class,
		ThreadPoolFactoryConfig.class, SubscriptionChannelConfig.class})
public class JpaWiring {

	/** H2 in memory: the data lives as long as the process. */
	@Bean
	public DataSource dataSource() {
		BasicDataSource dataSource = new BasicDataSource();
		dataSource.setDriver(new org.h2.Driver());
		dataSource.setUrl("jdbc:h2:mem:hapi;DB_CLOSE_DELAY=-1");
		dataSource.setUsername("");
		dataSource.setPassword("");
		dataSource.setMaxTotal(20);
		return dataSource;
	}

	@Bean
	public JpaStorageSettings storageSettings() {
		JpaStorageSettings settings = new JpaStorageSettings();
		settings.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ALPHANUMERIC);
		settings.setEnforceReferentialIntegrityOnWrite(true);
		settings.setEnforceReferentialIntegrityOnDelete(true);
		settings.setAllowExternalReferences(false);
		settings.setAutoCreatePlaceholderReferenceTargets(false);
		settings.setReuseCachedSearchResultsForMillis(60_000L);
		settings.setHibernateSearchIndexSearchParams(false);
		return settings;
	}

	@Bean
	public PartitionSettings partitionSettings() {
		return new PartitionSettings();
	}

	@Bean
	public SubscriptionSettings subscriptionSettings() {
		return new SubscriptionSettings();
	}

	@Bean
	public IBinaryStorageSvc binaryStorage() {
		return new MemoryBinaryStorageSvcImpl();
	}

	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			ConfigurableListableBeanFactory beanFactory, FhirContext fhirContext, JpaStorageSettings settings) {
		LocalContainerEntityManagerFactoryBean factory =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, settings);
		factory.setPersistenceUnitName("HAPI_PU");
		factory.setDataSource(dataSource());
		Properties properties = new Properties();
		properties.put("hibernate.dialect", HapiFhirH2Dialect.class.getName());
		properties.put("hibernate.hbm2ddl.auto", "update");
		properties.put("hibernate.search.enabled", "false");
		properties.put("hibernate.format_sql", "false");
		properties.put("hibernate.show_sql", "false");
		properties.put("hibernate.jdbc.batch_size", "20");
		properties.put("hibernate.cache.use_query_cache", "false");
		properties.put("hibernate.cache.use_second_level_cache", "false");
		properties.put("hibernate.archive.scanner", "org.hibernate.boot.archive.scan.internal.DisabledScanner");
		factory.setJpaProperties(properties);
		return factory;
	}

	@Bean
	@Primary
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		JpaTransactionManager manager = new JpaTransactionManager();
		manager.setEntityManagerFactory(entityManagerFactory);
		return manager;
	}
}
